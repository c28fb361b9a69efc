package io.decisionflow.functions;

import io.decisionflow.metrics.InstanceMetrics;
import io.decisionflow.metrics.StageMetrics;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.enrich.EnrichConfig;
import io.decisionflow.stages.enrich.EnrichStage;
import io.decisionflow.stages.enrich.InMemoryMerchantRisks;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.functions.api.Context;
import org.apache.pulsar.functions.api.Function;
import org.apache.pulsar.functions.api.Record;
import org.slf4j.Logger;

/**
 * Enrich: {@code transactions} to {@code transactions-enriched}, with the card's state.
 *
 * <p>Deployed with {@code processingGuarantees: MANUAL}: a record's enriched form is published as
 * soon as it is computed from the card's cached state, and the input record is acknowledged only
 * once that publish succeeded and the card's state including it is durable (see {@link
 * EnrichStage}). So the output never waits for the table service, and an acknowledged record is
 * never lost. The function publishes through its own producer ({@link
 * EnrichConfig#outputBatchingDelayMicros}) because Pulsar's function producers always batch for 10
 * ms; {@code process} returns nothing for the runtime to publish.
 *
 * <p><b>Merchant table.</b> Each instance reads the business unit's compacted {@code merchants}
 * topic as a table: to its end at {@code initialize}, so the first records see the loaded table,
 * then live on a background thread, so an update applies to the records processed after it arrives,
 * without a restart. A tombstone deletes its merchant. A record that cannot enter the table is
 * logged and skipped (see {@link MerchantUpdates}). The table's size, the updates applied and
 * ignored, and the state path's counters are exposed as {@code decisionflow_enrich_*} series (see
 * the README's Metrics section).
 */
public class EnrichFunction implements Function<byte[], EnrichedTransaction> {

  /** Where enriched records go: the output topic; tests capture them. */
  interface Output extends AutoCloseable {
    CompletableFuture<?> send(String key, long eventTimeMs, EnrichedTransaction value);
  }

  /** Opens the output of an initialized function. */
  interface OutputFactory {
    Output open(Context context, EnrichConfig config, InstanceMetrics metrics)
        throws PulsarClientException;
  }

  /** Where an enrich instance reads the unit's merchant table. */
  interface MerchantSource extends AutoCloseable {
    /** The updates up to the end of the topic, oldest first (after compaction, one per key). */
    List<MerchantUpdate> loaded() throws PulsarClientException;

    /** Calls {@code onUpdate} with each update from now on, one at a time. */
    void follow(Consumer<MerchantUpdate> onUpdate);

    /** Records skipped because they cannot enter the table. */
    long ignored();

    @Override
    void close();
  }

  /** Opens the merchant source of a function instance. */
  interface MerchantSources {
    MerchantSource open(Context context, String topic) throws PulsarClientException;
  }

  private final OutputFactory outputs;
  private final MerchantSources sources;
  private final InMemoryMerchantRisks merchants = new InMemoryMerchantRisks();
  private final AtomicLong merchantUpdates = new AtomicLong();
  private MerchantSource merchantSource;
  private InstanceMetrics metrics;
  private StageMetrics stageMetrics;
  private EnrichStage stage;
  private DeadLetters deadLetters;
  private Retries retries;
  private Output output;
  private Semaphore pending;
  private int maxPending;
  private ScheduledExecutorService timer;
  private long loggedChanges;
  private long loggedWrites;
  private Logger log;

  public EnrichFunction() {
    this(EnrichFunction::producer, defaultMerchantSources());
  }

  /** The unit's {@code merchants} topic, read through the instance's client. */
  static MerchantSources defaultMerchantSources() {
    return (context, topic) ->
        new MerchantUpdates(
            context.getPulsarClient(),
            topic,
            context.getFunctionName() + "-" + context.getInstanceId() + "-merchants",
            context.getLogger());
  }

  EnrichFunction(OutputFactory outputs, MerchantSources sources) {
    this.outputs = outputs;
    this.sources = sources;
  }

  @Override
  public void initialize(Context context) throws PulsarClientException {
    EnrichConfig config = StageConfigs.load(settings(context), EnrichConfig.class);
    log = context.getLogger();
    String merchantTopic =
        Topics.MERCHANTS.in(new BusinessNamespace(context.getTenant(), context.getNamespace()));
    merchantSource = sources.open(context, merchantTopic);
    try {
      merchantSource.loaded().forEach(this::apply);
    } catch (RuntimeException | PulsarClientException e) {
      merchantSource.close();
      throw e;
    }
    metrics = FunctionMetrics.open(context);
    stageMetrics = new StageMetrics(metrics, stageName());
    stage =
        new EnrichStage(
            config,
            new TimedCardStateStore(new PulsarCardStateStore(context), metrics),
            merchants,
            Clock.systemUTC());
    deadLetters = new DeadLetters(context, stageMetrics);
    retries =
        new Retries(
            context,
            stageName(),
            deadLetters,
            io.decisionflow.stages.RetryPolicy.load(context.getUserConfigMap()));
    maxPending = config.maxPendingRecords;
    pending = new Semaphore(maxPending);
    output = outputs.open(context, config, metrics);
    timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "enrich-state-timer");
              t.setDaemon(true);
              return t;
            });
    if (config.stateFlushDelayMs > 0) {
      long period = Math.max(1, Math.min(10, config.stateFlushDelayMs / 4));
      timer.scheduleWithFixedDelay(stage::flush, period, period, TimeUnit.MILLISECONDS);
    }
    timer.scheduleWithFixedDelay(this::logStatePath, 30, 30, TimeUnit.SECONDS);
    registerGauges();
    merchantSource.follow(this::apply);
    log.info(
        "enrich: feature spec {}, {} merchants in the reference table (following {}), state flush"
            + " delay {} ms, {} state writes in flight, {} records pending at most, output batching"
            + " {} us to {}",
        config.featureSpecVersion,
        merchants.size(),
        merchantTopic,
        config.stateFlushDelayMs,
        config.maxStateWritesInFlight,
        config.maxPendingRecords,
        config.outputBatchingDelayMicros,
        context.getOutputTopic());
  }

  @Override
  public EnrichedTransaction process(byte[] input, Context context) throws InterruptedException {
    Record<?> record = context.getCurrentRecord();
    awaitCapacity();
    long start = stageMetrics.received();
    CompletableFuture<?> done;
    try {
      Transaction txn = Records.parse(input, Transaction.parser(), "Transaction");
      EnrichStage.Outcome outcome = stage.enrich(txn);
      String key = record.getKey().orElse(txn.getCardId());
      CompletableFuture<?> sent =
          outcome
              .record()
              .thenCompose(enriched -> output.send(key, txn.getEventTimeMs(), enriched));
      done =
          CompletableFuture.allOf(sent, outcome.durable())
              .thenRun(() -> stageMetrics.emitted(start, txn.getEventTimeMs()));
    } catch (InvalidRecordException e) {
      done = deadLetters.send(input, e);
    }
    done.whenComplete(
        (ok, failure) -> {
          pending.release();
          if (failure == null) {
            record.ack();
            return;
          }
          // Tried again later from a copy (or dead-lettered after the last attempt); failed
          // only if even that cannot be stored, and then Pulsar delivers it again.
          retries
              .afterFailure(record, input, failure)
              .whenComplete(
                  (v, stored) -> {
                    if (stored == null) {
                      record.ack();
                    } else {
                      log.warn(
                          "enrich: record {} failed and could not be retried, it will be"
                              + " redelivered: {}",
                          record.getKey().orElse(""),
                          stored.toString());
                      record.fail();
                    }
                  });
        });
    return null;
  }

  /** The enrich settings of the function's userConfig: all of it. */
  Map<String, Object> settings(Context context) {
    return context.getUserConfigMap();
  }

  /** The stage this function's metrics, retries and dead letters name. */
  String stageName() {
    return "enrich";
  }

  /** The output topic, through the stage's own producer ({@link Outputs}). */
  private static Output producer(Context context, EnrichConfig config, InstanceMetrics metrics) {
    Outputs outputs = new Outputs(context, config.outputBatchingDelayMicros);
    String topic = outputs.outputTopic("enrich", Topics.TRANSACTIONS_ENRICHED.name());
    return new Output() {
      @Override
      public CompletableFuture<?> send(String key, long eventTimeMs, EnrichedTransaction value) {
        return outputs.send(topic, Topics.TRANSACTIONS_ENRICHED.schema(), key, value, eventTimeMs);
      }

      @Override
      public void close() {
        outputs.close();
      }
    };
  }

  /** Applies one update of the merchant table; records processed from now on see it. */
  void apply(MerchantUpdate update) {
    if (update.deletes()) {
      boolean removed = merchants.remove(update.merchantId());
      log.debug(
          "enrich: merchant {} deleted{}", update.merchantId(), removed ? "" : " (was not known)");
    } else {
      merchants.put(update.merchantId(), update.row().getRisk());
      log.debug("enrich: merchant {} risk {}", update.merchantId(), update.row().getRisk());
    }
    merchantUpdates.incrementAndGet();
  }

  /** The instance's metrics. */
  InstanceMetrics metrics() {
    return metrics;
  }

  /** The merchant table as records see it now. */
  InMemoryMerchantRisks merchants() {
    return merchants;
  }

  /**
   * The merchant table's size, the updates applied and ignored, and the state path's counters, as
   * {@code decisionflow_enrich_*} series.
   */
  private void registerGauges() {
    gauge("merchants", "Merchants in the reference table", merchants::size);
    gauge("merchant_updates_total", "Merchant table updates applied", merchantUpdates::get);
    gauge(
        "merchant_updates_ignored_total",
        "Merchant records that cannot enter the table",
        merchantSource::ignored);
    gauge("state_changes_total", "Card state changes applied", stage::appliedChanges);
    gauge("state_writes_total", "Card state writes (coalesced changes)", stage::writes);
    gauge("state_writes_in_flight", "Card state writes in flight", stage::writesInFlight);
    gauge("state_cards_queued", "Cards waiting for a state write", stage::cardsWaitingForWrite);
    gauge("state_cards_loading", "Cards whose state is being loaded", stage::cardsLoading);
    gauge("state_cards_cached", "Cards whose state is cached", stage::cachedCards);
    gauge(
        "records_pending",
        "Records received and not yet settled",
        () -> maxPending - pending.availablePermits());
  }

  private void gauge(String name, String help, DoubleSupplier value) {
    metrics.gauge("decisionflow_enrich_" + name, help, value);
  }

  /** Logs what the state path did since the last line: changes, writes, coalescing. */
  private void logStatePath() {
    long changes = stage.appliedChanges();
    long writes = stage.writes();
    long dc = changes - loggedChanges;
    long dw = writes - loggedWrites;
    loggedChanges = changes;
    loggedWrites = writes;
    if (dc > 0 || dw > 0) {
      log.info(
          "enrich state, last 30 s: {} changes in {} writes ({} per write), {} writes in flight,"
              + " {} cards queued for a write, {} loading, {} cached, {} records pending",
          dc,
          dw,
          dw == 0 ? "-" : String.format(java.util.Locale.ROOT, "%.2f", (double) dc / dw),
          stage.writesInFlight(),
          stage.cardsWaitingForWrite(),
          stage.cardsLoading(),
          stage.cachedCards(),
          maxPending - pending.availablePermits());
    }
  }

  /** Blocks while {@link EnrichConfig#maxPendingRecords} records wait for their state. */
  private void awaitCapacity() throws InterruptedException {
    while (!pending.tryAcquire(10, TimeUnit.SECONDS)) {
      log.warn(
          "enrich: {} records wait for their card state to become durable ({} writes in flight,"
              + " {} cards queued); not taking more until they do",
          maxPending - pending.availablePermits(),
          stage.writesInFlight(),
          stage.cardsWaitingForWrite());
    }
  }

  @Override
  public void close() throws Exception {
    if (timer != null) {
      timer.shutdownNow();
    }
    if (output != null) {
      output.close();
    }
    if (merchantSource != null) {
      merchantSource.close();
    }
    if (metrics != null) {
      metrics.close();
    }
  }
}
