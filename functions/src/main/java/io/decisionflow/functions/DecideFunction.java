package io.decisionflow.functions;

import io.decisionflow.metrics.InstanceMetrics;
import io.decisionflow.metrics.StageMetrics;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.Topics;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.decide.DecideConfig;
import io.decisionflow.stages.decide.DecideStage;
import io.prometheus.client.Counter;
import java.time.Clock;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import org.apache.pulsar.functions.api.Context;
import org.apache.pulsar.functions.api.Function;
import org.apache.pulsar.functions.api.Record;

/**
 * Decide: {@code scores} to {@code decisions} (the function's output), plus a copy to {@code
 * fraud-alerts} or {@code transactions-ok}. A score of a shadow copy never becomes a decision: the
 * score functions write those to {@code shadow-scores}, and one that reaches {@code scores} anyway
 * is skipped with a log line.
 */
public class DecideFunction implements Function<byte[], CompletableFuture<Decision>> {

  private DecideStage stage;
  private String alerts;
  private String ok;
  private String decisionsTopic;
  private Outputs outputs;
  private DeadLetters deadLetters;
  private Retries retries;
  private InstanceMetrics metrics;
  private StageMetrics stageMetrics;
  private Counter decisions;

  @Override
  public void initialize(Context context) {
    DecideConfig config = StageConfigs.load(context.getUserConfigMap(), DecideConfig.class);
    metrics = FunctionMetrics.open(context);
    stageMetrics = new StageMetrics(metrics, "decide");
    decisions = decisionsCounter(metrics);
    stage = new DecideStage(config, Clock.systemUTC());
    BusinessNamespace namespace =
        new BusinessNamespace(context.getTenant(), context.getNamespace());
    alerts = Topics.FRAUD_ALERTS.in(namespace);
    ok = Topics.TRANSACTIONS_OK.in(namespace);
    outputs = new Outputs(context, config.outputBatchingDelayMicros);
    decisionsTopic = outputs.outputTopic("decide", Topics.DECISIONS.in(namespace));
    deadLetters = new DeadLetters(context, stageMetrics);
    retries =
        new Retries(
            context,
            "decide",
            deadLetters,
            io.decisionflow.stages.RetryPolicy.load(context.getUserConfigMap()));
  }

  @Override
  public CompletableFuture<Decision> process(byte[] input, Context context) {
    Record<?> record = context.getCurrentRecord();
    long start = stageMetrics.received();
    Decision decision;
    try {
      Score score = Records.parse(input, Score.parser(), "Score");
      if (ShadowScores.isShadow(score)) {
        context
            .getLogger()
            .warn(
                "decide: skipping the score of shadow copy {} (arm {}): shadow scores are never"
                    + " decided",
                score.getRequest().getEnriched().getTransaction().getTransactionId(),
                score.getRequest().getArm());
        return CompletableFuture.completedFuture(null);
      }
      decision = stage.decide(score);
    } catch (InvalidRecordException e) {
      return deadLetters.send(input, e).thenApply(sent -> null);
    }
    CompletableFuture<?> copy =
        outputs.send(
            DecideStage.isAlert(decision) ? alerts : ok,
            Topics.DECISIONS.schema(),
            decision.getCardId(),
            decision,
            0);
    CompletableFuture<Decision> sent;
    if (outputs.own() && !copy.isCompletedExceptionally()) {
      // Both copies through the stage's producers; the runtime gets nothing to publish. A copy
      // that failed at once (its producer cannot be created) stores nothing before the retry.
      CompletableFuture<?> stored =
          outputs.send(
              decisionsTopic,
              Topics.DECISIONS.schema(),
              decision.getCardId(),
              decision,
              decision.getEventTimeMs());
      sent =
          CompletableFuture.allOf(copy, stored)
              .thenApply(
                  done -> {
                    counted(decision, start);
                    return null;
                  });
    } else {
      sent = copy.thenApply(id -> counted(decision, start));
    }
    // A copy that could not be sent: the record is tried again later (no decision now).
    return sent.exceptionallyCompose(
        failure -> retries.afterFailure(record, input, failure).thenApply(v -> null));
  }

  private Decision counted(Decision decision, long start) {
    stageMetrics.emitted(start, decision.getEventTimeMs());
    count(decisions, decision);
    return decision;
  }

  /** {@code decisionflow_decisions_total}: decisions by arm, model version and decision. */
  static Counter decisionsCounter(InstanceMetrics metrics) {
    return metrics.counter(
        "decisionflow_decisions_total",
        "Decisions made, by arm, model version and decision (alert or ok)",
        "arm",
        "model_version",
        "decision");
  }

  /** Counts {@code decision} in {@link #decisionsCounter}. */
  static void count(Counter decisions, Decision decision) {
    decisions
        .labels(
            decision.getArm(),
            decision.getModelVersion(),
            decision.getOutcome().toLowerCase(Locale.ROOT))
        .inc();
  }

  /** The instance's metrics. */
  InstanceMetrics metrics() {
    return metrics;
  }

  @Override
  public void close() {
    if (outputs != null) {
      outputs.close();
    }
    if (metrics != null) {
      metrics.close();
    }
  }
}
