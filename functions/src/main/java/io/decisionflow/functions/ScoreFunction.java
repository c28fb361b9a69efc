package io.decisionflow.functions;

import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.score.MicroBatchTimer;
import io.decisionflow.stages.score.MicroBatcher;
import io.decisionflow.stages.score.Model;
import io.decisionflow.stages.score.ScoreConfig;
import io.decisionflow.stages.score.ScoreStage;
import io.decisionflow.stages.score.TensorFlowModel;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.apache.pulsar.functions.api.Context;
import org.apache.pulsar.functions.api.Function;

/**
 * Score: {@code scoring-<slot>} to {@code scores}, with the slot's TensorFlow SavedModel. The
 * function is asynchronous: records in flight are scored together, up to {@code maxBatchSize} per
 * model call, waiting at most {@code maxBatchWaitMs} for a batch to fill.
 */
public class ScoreFunction implements Function<byte[], CompletableFuture<Score>> {

  private Model model;
  private ScoreStage stage;
  private MicroBatcher<ScoreStage.Prepared, Score> batcher;
  private MicroBatchTimer timer;
  private DeadLetters deadLetters;

  @Override
  public void initialize(Context context) {
    ScoreConfig config = StageConfigs.load(context.getUserConfigMap(), ScoreConfig.class);
    long started = System.nanoTime();
    model = TensorFlowModel.load(config.existingModelPath());
    try {
      stage = new ScoreStage(config, model);
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
    stage
        .guarded()
        .onStateTransition(
            transition ->
                context
                    .getLogger()
                    .warn("score {}: circuit breaker {}", config.modelSlot, transition));
    batcher =
        new MicroBatcher<>(
            config.maxBatchSize,
            Duration.ofMillis(config.maxBatchWaitMs),
            stage::scoreAll,
            Clock.systemUTC());
    timer = MicroBatchTimer.start(batcher, "score-" + config.modelSlot + "-batches");
    deadLetters = new DeadLetters(context, "score");
    context
        .getLogger()
        .info(
            "score {}: loaded model {} {} from {} in {} ms; batches of up to {}, waiting {} ms",
            config.modelSlot,
            model.manifest().name(),
            model.manifest().version(),
            config.modelPath(),
            (System.nanoTime() - started) / 1_000_000,
            config.maxBatchSize,
            config.maxBatchWaitMs);
  }

  @Override
  public CompletableFuture<Score> process(byte[] input, Context context) {
    ScoreStage.Prepared prepared;
    try {
      prepared = stage.prepare(Records.parse(input, ScoringRequest.parser(), "ScoringRequest"));
    } catch (InvalidRecordException e) {
      return deadLetters.send(input, e).thenApply(sent -> null);
    }
    return batcher.submit(prepared);
  }

  /** Stops batching (scoring what is pending), then releases the model. */
  @Override
  public void close() {
    if (timer != null) {
      timer.close();
    }
    if (batcher != null) {
      batcher.close();
    }
    if (model != null) {
      model.close();
    }
  }
}
