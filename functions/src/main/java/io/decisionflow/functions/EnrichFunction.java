package io.decisionflow.functions;

import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.enrich.EnrichConfig;
import io.decisionflow.stages.enrich.EnrichStage;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.api.Producer;
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
 */
public class EnrichFunction implements Function<byte[], EnrichedTransaction> {

  /** Where enriched records go: the output topic; tests capture them. */
  interface Output extends AutoCloseable {
    CompletableFuture<?> send(String key, long eventTimeMs, EnrichedTransaction value);
  }

  /** Opens the output of an initialized function. */
  interface OutputFactory {
    Output open(Context context, EnrichConfig config) throws PulsarClientException;
  }

  private final OutputFactory outputs;
  private EnrichStage stage;
  private DeadLetters deadLetters;
  private Output output;
  private Semaphore pending;
  private int maxPending;
  private ScheduledExecutorService timer;
  private long loggedChanges;
  private long loggedWrites;
  private Logger log;

  public EnrichFunction() {
    this(EnrichFunction::producer);
  }

  EnrichFunction(OutputFactory outputs) {
    this.outputs = outputs;
  }

  @Override
  public void initialize(Context context) throws PulsarClientException {
    EnrichConfig config = StageConfigs.load(context.getUserConfigMap(), EnrichConfig.class);
    log = context.getLogger();
    stage = new EnrichStage(config, new PulsarCardStateStore(context), Clock.systemUTC());
    deadLetters = new DeadLetters(context, "enrich");
    maxPending = config.maxPendingRecords;
    pending = new Semaphore(maxPending);
    output = outputs.open(context, config);
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
    log.info(
        "enrich: feature spec {}, state flush delay {} ms, {} state writes in flight, {} records"
            + " pending at most, output batching {} us to {}",
        config.featureSpecVersion,
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
    CompletableFuture<?> done;
    try {
      Transaction txn = Records.parse(input, Transaction.parser(), "Transaction");
      EnrichStage.Outcome outcome = stage.enrich(txn);
      String key = record.getKey().orElse(txn.getCardId());
      CompletableFuture<?> sent =
          outcome
              .record()
              .thenCompose(enriched -> output.send(key, txn.getEventTimeMs(), enriched));
      done = CompletableFuture.allOf(sent, outcome.durable());
    } catch (InvalidRecordException e) {
      done = deadLetters.send(input, e);
    }
    done.whenComplete(
        (ok, failure) -> {
          pending.release();
          if (failure == null) {
            record.ack();
          } else {
            log.warn(
                "enrich: record {} failed, it will be redelivered: {}",
                record.getKey().orElse(""),
                failure.toString());
            record.fail();
          }
        });
    return null;
  }

  /** The output topic's producer, batching for {@link EnrichConfig#outputBatchingDelayMicros}. */
  private static Output producer(Context context, EnrichConfig config)
      throws PulsarClientException {
    String topic = context.getOutputTopic();
    if (topic == null || topic.isBlank()) {
      throw new IllegalArgumentException(
          "enrich needs an output topic (the function config's output), e.g. "
              + Topics.TRANSACTIONS_ENRICHED.name());
    }
    Producer<EnrichedTransaction> producer =
        context
            .getPulsarClient()
            .newProducer(Topics.TRANSACTIONS_ENRICHED.schema())
            .topic(topic)
            .enableBatching(config.outputBatchingDelayMicros > 0)
            .batchingMaxPublishDelay(
                Math.max(1, config.outputBatchingDelayMicros), TimeUnit.MICROSECONDS)
            .blockIfQueueFull(true)
            // Never time a send out: a record is acknowledged only after its send succeeded.
            .sendTimeout(0, TimeUnit.SECONDS)
            .create();
    return new Output() {
      @Override
      public CompletableFuture<?> send(String key, long eventTimeMs, EnrichedTransaction value) {
        var message = producer.newMessage().key(key).value(value);
        if (eventTimeMs > 0) {
          message.eventTime(eventTimeMs);
        }
        return message.sendAsync();
      }

      @Override
      public void close() throws PulsarClientException {
        producer.close();
      }
    };
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
  }
}
