package io.decisionflow.functions;

import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.score.Model;
import io.decisionflow.stages.score.ScoreConfig;
import io.decisionflow.stages.score.ScoreStage;
import io.decisionflow.stages.score.TensorFlowModel;
import java.time.Clock;
import org.apache.pulsar.functions.api.Context;
import org.apache.pulsar.functions.api.Function;

/** Score: {@code scoring-<slot>} to {@code scores}, with the slot's TensorFlow SavedModel. */
public class ScoreFunction implements Function<byte[], Score> {

  private Model model;
  private ScoreStage stage;
  private DeadLetters deadLetters;

  @Override
  public void initialize(Context context) {
    ScoreConfig config = StageConfigs.load(context.getUserConfigMap(), ScoreConfig.class);
    long started = System.nanoTime();
    model = TensorFlowModel.load(config.existingModelPath());
    try {
      stage = new ScoreStage(config, model, Clock.systemUTC());
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
    deadLetters = new DeadLetters(context, "score");
    context
        .getLogger()
        .info(
            "score {}: loaded model {} {} from {} in {} ms",
            config.modelSlot,
            model.manifest().name(),
            model.manifest().version(),
            config.modelPath(),
            (System.nanoTime() - started) / 1_000_000);
  }

  @Override
  public Score process(byte[] input, Context context) throws Exception {
    try {
      return stage.score(Records.parse(input, ScoringRequest.parser(), "ScoringRequest"));
    } catch (InvalidRecordException e) {
      deadLetters.send(input, e).get();
      return null;
    }
  }

  @Override
  public void close() {
    if (model != null) {
      model.close();
    }
  }
}
