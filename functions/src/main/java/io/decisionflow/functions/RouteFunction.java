package io.decisionflow.functions;

import io.decisionflow.metrics.InstanceMetrics;
import io.decisionflow.metrics.StageMetrics;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.schemas.TopicSpec;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.control.RoutingStatus;
import io.decisionflow.schemas.control.RoutingTable;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.route.RouteConfig;
import io.decisionflow.stages.route.RouteStage;
import io.decisionflow.stages.route.RoutingTables;
import io.prometheus.client.Counter;
import io.prometheus.client.Gauge;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.functions.api.Context;
import org.apache.pulsar.functions.api.Function;
import org.apache.pulsar.functions.api.Record;
import org.slf4j.Logger;

/**
 * Route: {@code transactions-enriched} to {@code scoring-<slot>} of the card's arm, plus a shadow
 * copy to {@code scoring-<slot>} of each shadow arm that mirrors the card. The record is
 * acknowledged once every copy is stored.
 *
 * <p><b>Which table.</b> The newest {@link RoutingTable} on the business unit's compacted {@code
 * routing} topic; the table of {@code userConfig} only until one is announced. A new table applies
 * live, between two records, without a restart. A table that breaks the rules of {@link
 * RoutingTables} (or that reuses the current version with other arms) is refused and the current
 * table stays. Each table applied or refused is published on {@code routing-status}.
 */
public class RouteFunction implements Function<byte[], CompletableFuture<Void>> {

  /** Where a route function learns of announced routing tables. */
  interface TableSource extends AutoCloseable {
    /**
     * The tables announced so far, oldest first (after compaction, the newest only); empty if none
     * was announced yet.
     */
    List<RoutingTable> announced() throws PulsarClientException;

    /** Calls {@code onTable} with each table announced from now on, one at a time. */
    void follow(Consumer<RoutingTable> onTable);

    @Override
    void close();
  }

  /** Opens the table source of a function instance. */
  interface TableSources {
    TableSource open(Context context, String topic) throws PulsarClientException;
  }

  static final String FROM_CONFIG = "userConfig";
  static final String FROM_TOPIC = "routing";

  private final TableSources sources;
  private volatile RouteStage stage;
  private Set<String> knownSlots;
  private BusinessNamespace namespace;
  private DeadLetters deadLetters;
  private Retries retries;
  private TableSource tables;
  private Outputs outputs;
  private Context context;
  private Logger log;
  private String statusTopic;
  private InstanceMetrics metrics;
  private StageMetrics stageMetrics;
  private Counter routed;
  private Gauge tableInfo;
  private Counter tablesApplied;
  private Counter tablesRefused;

  public RouteFunction() {
    this(
        (context, topic) ->
            new RoutingAnnouncements(
                context.getPulsarClient(),
                topic,
                context.getFunctionName() + "-" + context.getInstanceId() + "-routing",
                context.getLogger()));
  }

  RouteFunction(TableSources sources) {
    this.sources = sources;
  }

  @Override
  public void initialize(Context context) throws PulsarClientException {
    this.context = context;
    this.log = context.getLogger();
    RouteConfig config = StageConfigs.load(context.getUserConfigMap(), RouteConfig.class);
    outputs = new Outputs(context, config.outputBatchingDelayMicros);
    knownSlots = config.knownSlots();
    namespace = new BusinessNamespace(context.getTenant(), context.getNamespace());
    statusTopic = Topics.ROUTING_STATUS.in(namespace);
    metrics = FunctionMetrics.open(context);
    stageMetrics = new StageMetrics(metrics, "route");
    routed =
        metrics.counter(
            "decisionflow_route_records_total",
            "Scoring requests sent, by arm and kind (deciding or shadow)",
            "arm",
            "kind");
    tableInfo =
        Gauge.build()
            .name("decisionflow_route_table_info")
            .help("1 for the version of the routing table in force")
            .labelNames("version")
            .register(metrics.registry());
    tablesApplied =
        metrics.counter("decisionflow_route_tables_applied_total", "Routing tables applied");
    tablesRefused =
        metrics.counter(
            "decisionflow_route_tables_refused_total",
            "Routing tables refused (the current stays)");
    deadLetters = new DeadLetters(context, stageMetrics);
    retries =
        new Retries(
            context,
            "route",
            deadLetters,
            io.decisionflow.stages.RetryPolicy.load(context.getUserConfigMap()));
    RoutingTable initial = config.toTable();
    stage = new RouteStage(RoutingTables.validate(initial, knownSlots), Clock.systemUTC());
    tableInfo.labels(initial.getVersion()).set(1);
    tables = sources.open(context, Topics.ROUTING.in(namespace));
    try {
      List<RoutingTable> announced = tables.announced();
      if (announced.isEmpty()) {
        publishStatus(RoutingStatus.Event.APPLIED, initial, "", FROM_CONFIG);
      }
      // In order, so that a refused newest table leaves the newest valid one before it in force;
      // only the outcome of the newest is published.
      for (int i = 0; i < announced.size(); i++) {
        apply(announced.get(i), i == announced.size() - 1);
      }
    } catch (RuntimeException | PulsarClientException e) {
      tables.close();
      throw e;
    }
    tables.follow(this::apply);
    log.info(
        "route: routing by table {} ({}); slots {}; following {}",
        stage.table().getVersion(),
        RoutingTables.describe(stage.table()),
        knownSlots,
        Topics.ROUTING.in(namespace));
  }

  /** Applies an announced table from the next record on, or refuses it and keeps the current. */
  void apply(RoutingTable table) {
    apply(table, true);
  }

  private synchronized void apply(RoutingTable table, boolean publish) {
    RoutingTable current = stage.table();
    try {
      RoutingTables.validate(table, knownSlots);
      if (table.getVersion().equals(current.getVersion())
          && !RoutingTables.sameRouting(table, current)) {
        throw new IllegalArgumentException(
            "version: '"
                + table.getVersion()
                + "' is already applied with other arms; a changed table needs a new version");
      }
    } catch (RoutingTables.InvalidRoutingTableException e) {
      refuse(table, e.reason(), current, publish);
      return;
    } catch (IllegalArgumentException e) {
      refuse(table, e.getMessage(), current, publish);
      return;
    }
    stage = new RouteStage(table, Clock.systemUTC());
    tablesApplied.inc();
    tableInfo.clear();
    tableInfo.labels(table.getVersion()).set(1);
    log.info(
        "route: applied routing table {} ({}), was {}",
        table.getVersion(),
        RoutingTables.describe(table),
        current.getVersion());
    if (publish) {
      publishStatus(RoutingStatus.Event.APPLIED, table, "", FROM_TOPIC);
    }
  }

  private void refuse(RoutingTable table, String reason, RoutingTable current, boolean publish) {
    tablesRefused.inc();
    log.error(
        "route: refused routing table {}: {}; still routing by {}",
        table.getVersion(),
        reason,
        current.getVersion());
    if (publish) {
      publishStatus(RoutingStatus.Event.REFUSED, table, reason, FROM_TOPIC);
    }
  }

  /** The table records are routed by now. */
  RoutingTable table() {
    return stage.table();
  }

  @Override
  public CompletableFuture<Void> process(byte[] input, Context context) {
    Record<?> record = context.getCurrentRecord();
    long start = stageMetrics.received();
    List<ScoringRequest> requests;
    try {
      requests =
          stage.routeAll(Records.parse(input, EnrichedTransaction.parser(), "EnrichedTransaction"));
    } catch (InvalidRecordException e) {
      return deadLetters.send(input, e).thenApply(sent -> null);
    }
    CompletableFuture<?>[] sent = new CompletableFuture<?>[requests.size()];
    for (int i = 0; i < sent.length; i++) {
      ScoringRequest request = requests.get(i);
      TopicSpec<ScoringRequest> topic = Topics.scoring(request.getModelSlot());
      sent[i] =
          outputs.send(
              topic.in(namespace),
              topic.schema(),
              request.getEnriched().getTransaction().getCardId(),
              request,
              0);
    }
    return CompletableFuture.allOf(sent)
        .thenRun(() -> counted(requests, start))
        .exceptionallyCompose(failure -> retries.afterFailure(record, input, failure));
  }

  private void counted(List<ScoringRequest> requests, long start) {
    long eventTimeMs = 0;
    for (ScoringRequest request : requests) {
      routed.labels(request.getArm(), request.getShadow() ? "shadow" : "deciding").inc();
      eventTimeMs = request.getEnriched().getTransaction().getEventTimeMs();
    }
    stageMetrics.emitted(start, eventTimeMs);
  }

  private void publishStatus(
      RoutingStatus.Event event, RoutingTable requested, String reason, String source) {
    RoutingStatus status =
        RoutingStatus.newBuilder()
            .setFunction(
                context.getTenant()
                    + "/"
                    + context.getNamespace()
                    + "/"
                    + context.getFunctionName())
            .setInstanceId(context.getInstanceId())
            .setEvent(event)
            .setAppliedVersion(stage.table().getVersion())
            .setRequestedVersion(requested.getVersion())
            .setReason(reason)
            .setSource(source)
            .setTimeMs(System.currentTimeMillis())
            .build();
    try {
      context
          .newOutputMessage(statusTopic, Topics.ROUTING_STATUS.schema())
          .key(context.getFunctionName() + "/" + context.getInstanceId())
          .value(status)
          .sendAsync()
          .exceptionally(
              e -> {
                log.warn("route: cannot publish to {}: {}", statusTopic, e.toString());
                return null;
              });
    } catch (PulsarClientException e) {
      log.warn("route: cannot publish to {}: {}", statusTopic, e.toString());
    }
  }

  /** The instance's metrics. */
  InstanceMetrics metrics() {
    return metrics;
  }

  @Override
  public void close() {
    if (tables != null) {
      tables.close();
    }
    if (outputs != null) {
      outputs.close();
    }
    if (metrics != null) {
      metrics.close();
    }
  }
}
