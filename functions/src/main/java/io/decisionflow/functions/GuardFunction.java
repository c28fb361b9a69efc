package io.decisionflow.functions;

import io.decisionflow.metrics.InstanceMetrics;
import io.decisionflow.metrics.StageMetrics;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.control.RoutingTable;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.guard.ArmWindow;
import io.decisionflow.stages.guard.Guard;
import io.decisionflow.stages.guard.GuardConfig;
import io.decisionflow.stages.route.RoutingTables;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.functions.api.Context;
import org.apache.pulsar.functions.api.Function;
import org.apache.pulsar.functions.api.Record;
import org.slf4j.Logger;

/**
 * Guard: watches {@code decisions} per deciding arm of the routing table in force and, when an arm
 * breaks a bound of {@link GuardConfig} (fallback rate, alert rate against the champion, p99
 * route-to-score latency, over a sliding window), publishes on {@code routing} a table that moves
 * the arm's weight to the champion, published by {@value Guard#PUBLISHED_BY} with the reason. The
 * route functions apply it like any other table. No output topic; every rollback is logged at WARN.
 *
 * <p>The table in force is the newest on the unit's {@code routing} topic, followed live; until one
 * is published, the route function's initial table from {@code userConfig.routing}.
 */
public class GuardFunction implements Function<byte[], CompletableFuture<Void>> {

  private final RouteFunction.TableSources sources;
  private final Clock clock;
  private Guard guard;
  private GuardConfig config;
  private DeadLetters deadLetters;
  private RouteFunction.TableSource tables;
  private Context context;
  private Logger log;
  private String routingTopic;
  private InstanceMetrics metrics;
  private final AtomicLong rollbacks = new AtomicLong();
  private final AtomicLong counted = new AtomicLong();
  private final AtomicLong replicated = new AtomicLong();

  public GuardFunction() {
    this(
        (context, topic) ->
            new RoutingAnnouncements(
                context.getPulsarClient(),
                topic,
                context.getFunctionName() + "-" + context.getInstanceId() + "-routing",
                context.getLogger(),
                "guard"),
        Clock.systemUTC());
  }

  GuardFunction(RouteFunction.TableSources sources, Clock clock) {
    this.sources = sources;
    this.clock = clock;
  }

  @Override
  public void initialize(Context context) throws PulsarClientException {
    this.context = context;
    this.log = context.getLogger();
    config = StageConfigs.load(context.getUserConfigMap(), GuardConfig.class);
    guard = new Guard(config, clock);
    BusinessNamespace namespace =
        new BusinessNamespace(context.getTenant(), context.getNamespace());
    routingTopic = Topics.ROUTING.in(namespace);
    metrics = FunctionMetrics.open(context);
    deadLetters = new DeadLetters(context, new StageMetrics(metrics, "guard"));
    if (config.routing != null) {
      guard.table(config.routing.toTable());
    }
    tables = sources.open(context, routingTopic);
    try {
      List<RoutingTable> announced = tables.announced();
      // In order, as the route functions apply them: a refused newest table leaves the newest
      // valid one before it in force.
      announced.forEach(this::follow);
    } catch (RuntimeException | PulsarClientException e) {
      tables.close();
      throw e;
    }
    tables.follow(this::follow);
    metrics.gauge("decisionflow_guard_rollbacks_total", "Rollbacks published", rollbacks::get);
    metrics.gauge(
        "decisionflow_guard_decisions_counted_total",
        "Decisions counted in the windows of the table in force",
        counted::get);
    metrics.gauge(
        "decisionflow_guard_decisions_replicated_total",
        "Decisions replicated from another region, not judged here",
        replicated::get);
    log.info(
        "guard: watching arms of {} (window {} s, at least {} decisions, fallback <= {}%, alert"
            + " rate <= {}x the champion's, p99 route to score <= {} ms, champion '{}')",
        guard
            .table()
            .map(t -> t.getVersion() + " (" + RoutingTables.describe(t) + ")")
            .orElse("the first table published on " + routingTopic),
        config.windowSeconds,
        config.minRecords,
        config.maxFallbackRatePercent,
        config.maxAlertRateRatio,
        config.maxP99LatencyMs,
        config.championArm);
  }

  /**
   * The table in force from now on (a new version starts the windows afresh), unless the route
   * functions refuse it: then the table before stays.
   */
  synchronized void follow(RoutingTable table) {
    Optional<RoutingTable> before = guard.table();
    Set<String> slots = new LinkedHashSet<>();
    if (config.routing != null) {
      slots.addAll(config.routing.knownSlots());
    } else {
      table.getArmsList().forEach(a -> slots.add(a.getModelSlot()));
      table.getShadowsList().forEach(a -> slots.add(a.getModelSlot()));
    }
    List<String> problems = new ArrayList<>(RoutingTables.problems(table, slots));
    if (before.isPresent()
        && before.get().getVersion().equals(table.getVersion())
        && !RoutingTables.sameRouting(before.get(), table)) {
      problems.add("version: '" + table.getVersion() + "' is already in force with other arms");
    }
    if (!problems.isEmpty()) {
      log.warn(
          "guard: ignoring routing table {}, which the route functions refuse ({}); still watching"
              + " {}",
          table.getVersion(),
          String.join("; ", problems),
          before.map(RoutingTable::getVersion).orElse("no table"));
      return;
    }
    guard.table(table);
    if (before.isEmpty() || !before.get().getVersion().equals(table.getVersion())) {
      boolean hasChampion =
          table.getArmsList().stream().anyMatch(a -> a.getName().equals(config.championArm));
      log.info(
          "guard: watching routing table {} ({}){}",
          table.getVersion(),
          RoutingTables.describe(table),
          hasChampion
              ? ""
              : "; it has no arm '" + config.championArm + "', so no arm can be rolled back");
    }
  }

  @Override
  public CompletableFuture<Void> process(byte[] input, Context context) {
    if (replicatedFromAnotherRegion(context)) {
      // Another region's arms, judged by that region's guard (geo-replicated decisions).
      replicated.incrementAndGet();
      return CompletableFuture.completedFuture(null);
    }
    Decision decision;
    try {
      decision = Records.parse(input, Decision.parser(), "Decision");
    } catch (InvalidRecordException e) {
      return deadLetters.send(input, e).thenApply(sent -> null);
    }
    Optional<Guard.Verdict> verdict;
    synchronized (this) {
      if (guard.record(decision)) {
        counted.incrementAndGet();
      }
      verdict = guard.judgeThrottled();
    }
    verdict.ifPresent(this::rollBack);
    return CompletableFuture.completedFuture(null);
  }

  private static boolean replicatedFromAnotherRegion(Context context) {
    Record<?> record = context.getCurrentRecord();
    return record != null && record.getMessage().map(m -> m.isReplicated()).orElse(false);
  }

  /** Decisions replicated from another region, skipped. */
  public long replicatedSkipped() {
    return replicated.get();
  }

  private void rollBack(Guard.Verdict verdict) {
    RoutingTable table;
    try {
      table = guard.rollback(verdict);
    } catch (IllegalArgumentException e) {
      log.error("guard: cannot roll back ({}): {}", verdict.reason(), e.getMessage());
      return;
    }
    log.warn(
        "guard: rolling back routing table {} to {} ({}): {}",
        verdict.table().getVersion(),
        table.getVersion(),
        RoutingTables.describe(table),
        verdict.reason());
    try {
      context
          .newOutputMessage(routingTopic, Topics.ROUTING.schema())
          .key(Topics.ROUTING_KEY)
          .value(table)
          .sendAsync()
          .whenComplete(
              (id, e) -> {
                if (e == null) {
                  rollbacks.incrementAndGet();
                } else {
                  failed(verdict, e);
                }
              });
    } catch (PulsarClientException e) {
      failed(verdict, e);
    }
  }

  private synchronized void failed(Guard.Verdict verdict, Throwable e) {
    log.error(
        "guard: cannot publish the rollback of {} to {}, will retry: {}",
        verdict.table().getVersion(),
        routingTopic,
        e.toString());
    guard.failed(verdict);
  }

  /** Rollbacks published so far. */
  long rollbacks() {
    return rollbacks.get();
  }

  /** The window of {@code arm} under the table in force. */
  synchronized Optional<ArmWindow.Totals> totals(String arm) {
    return guard.totals(arm);
  }

  @Override
  public void close() {
    if (tables != null) {
      tables.close();
    }
    if (metrics != null) {
      metrics.close();
    }
  }
}
