package io.decisionflow.tools;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.models.synthetic.TransactionGenerator;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.tools.bench.GroundTruth;
import io.decisionflow.tools.bench.LoadGenerator;
import io.decisionflow.tools.bench.RateSchedule;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The load generator: synthetic transactions at a fixed rate, open loop, keyed by card. */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = {
      "Publish synthetic transactions to a business unit's transactions topic on a fixed-rate",
      "schedule, open loop (each transaction leaves when it is due, with its due time as event",
      "time, whatever the pipeline does), keyed by card; optionally write the generator's labels",
      "(fraud or not, and the fraud probability) to a CSV file."
    })
final class GenerateCommand implements Callable<Integer> {

  @Mixin ClusterOptions cluster;

  @Option(
      names = "--rate",
      defaultValue = "1000",
      description = "Transactions per second (${DEFAULT-VALUE}).")
  double rate;

  @Option(
      names = "--duration",
      defaultValue = "60",
      description = "Seconds to publish for (${DEFAULT-VALUE}).")
  double durationSeconds;

  @Option(
      names = "--schedule",
      description =
          "Rate steps instead of --rate/--duration: <rate>x<seconds>s,..., e.g."
              + " 500x10s,2000x30s.")
  String schedule;

  @Option(
      names = "--cards",
      defaultValue = "10000",
      description = "Distinct cards (${DEFAULT-VALUE}).")
  int cards;

  @Option(names = "--seed", description = "Generator seed (default: the current time).")
  Long seed;

  @Option(
      names = "--card-prefix",
      description =
          "Put before every card and transaction id (default: gen<seed>-, so that a run's cards"
              + " start without the state of earlier runs).")
  String cardPrefix;

  @Option(names = "--labels", description = "Write the labels of what was sent to this CSV file.")
  Path labels;

  @Override
  public Integer call() throws Exception {
    if (cards < 1) {
      throw new IllegalArgumentException("--cards must be >= 1, was " + cards);
    }
    RateSchedule plan =
        schedule != null
            ? RateSchedule.parse(schedule)
            : RateSchedule.constant(rate, Duration.ofNanos(Math.round(durationSeconds * 1e9)));
    BusinessUnit unit = cluster.businessUnit();
    BusinessNamespace ns = unit.pipelineNamespace();
    long runSeed = seed != null ? seed : System.currentTimeMillis();
    String prefix = cardPrefix != null ? cardPrefix : "gen" + runSeed + "-";
    TransactionGenerator transactions =
        new TransactionGenerator(TransactionGenerator.Options.defaults(runSeed).withCards(cards));
    GroundTruth truth = new GroundTruth();
    System.out.printf(
        "[generate] %d transactions to %s on schedule %s, %d cards, seed %d%n",
        plan.total(), Topics.TRANSACTIONS.in(ns), plan, cards, runSeed);
    try (PulsarClient client = cluster.client();
        Producer<Transaction> producer = transactionProducer(client, Topics.TRANSACTIONS.in(ns))) {
      LoadGenerator generator =
          new LoadGenerator(
              transactions, prefix, sender(producer), truth, LoadGenerator.Clock.SYSTEM);
      long start = System.nanoTime();
      LoadGenerator.Report report =
          generator.run(
              plan,
              sent ->
                  System.out.printf(
                      Locale.ROOT,
                      "[generate] sent %d/%d, acknowledged %d, failed %d%n",
                      sent,
                      plan.total(),
                      generator.acknowledged(),
                      generator.failed()));
      producer.flush();
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf(
          Locale.ROOT,
          "[generate] sent %d in %.1f s (%.0f/s), acknowledged %d, failed %d; at worst %.1f ms"
              + " behind schedule; %d frauds by the labels%n",
          report.sent(),
          seconds,
          report.sent() / seconds,
          generator.acknowledged(),
          generator.failed(),
          report.maxBehindMicros() / 1000.0,
          truth.frauds());
      if (generator.firstFailure() != null) {
        System.out.println("[generate] first failed send: " + generator.firstFailure());
      }
      if (labels != null) {
        truth.write(labels);
        System.out.println("[generate] labels of " + truth.size() + " transactions in " + labels);
      }
      return generator.failed() == 0 ? 0 : 1;
    }
  }

  /**
   * A producer for open-loop load: batches of at most 1 ms, and a queue deep enough that a sender
   * ahead of the broker by a second at 50k/s does not block.
   */
  static Producer<Transaction> transactionProducer(PulsarClient client, String topic)
      throws Exception {
    return client
        .newProducer(Topics.TRANSACTIONS.schema())
        .topic(topic)
        .enableBatching(true)
        .batchingMaxPublishDelay(1, TimeUnit.MILLISECONDS)
        .maxPendingMessages(50_000)
        .blockIfQueueFull(true)
        .create();
  }

  /** Sends through {@code producer}, keyed by card, with the due time as event time. */
  static LoadGenerator.Sink sender(Producer<Transaction> producer) {
    return (key, txn, eventTimeMs) ->
        producer.newMessage().key(key).value(txn).eventTime(eventTimeMs).sendAsync();
  }
}
