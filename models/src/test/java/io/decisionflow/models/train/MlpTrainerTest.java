package io.decisionflow.models.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.decisionflow.stages.score.ModelDigest;
import io.decisionflow.stages.score.ModelManifest;
import io.decisionflow.stages.score.TensorFlowModel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MlpTrainerTest {

  private static final int FEATURES = 3;
  private static final int TRAIN_ROWS = 4000;
  private static final int TEST_ROWS = 1000;

  private static float[] trainX;
  private static float[] trainY;
  private static float[] testX;
  private static float[] testY;

  /**
   * XOR: label ~ Bernoulli(0.9) if x0 and x1 have the same sign, else Bernoulli(0.1); x2 is noise.
   * No linear model does better than chance; the scales differ so standardization matters.
   */
  @BeforeAll
  static void generate() {
    Random random = new Random(3);
    int rows = TRAIN_ROWS + TEST_ROWS;
    float[] x = new float[rows * FEATURES];
    float[] y = new float[rows];
    for (int r = 0; r < rows; r++) {
      double x0 = 2 * random.nextDouble() - 1;
      double x1 = 2 * random.nextDouble() - 1;
      x[r * FEATURES] = (float) (10 + 5 * x0);
      x[r * FEATURES + 1] = (float) (100 * x1);
      x[r * FEATURES + 2] = (float) random.nextGaussian();
      double p = x0 * x1 > 0 ? 0.9 : 0.1;
      y[r] = random.nextDouble() < p ? 1f : 0f;
    }
    trainX = Arrays.copyOfRange(x, 0, TRAIN_ROWS * FEATURES);
    trainY = Arrays.copyOfRange(y, 0, TRAIN_ROWS);
    testX = Arrays.copyOfRange(x, TRAIN_ROWS * FEATURES, rows * FEATURES);
    testY = Arrays.copyOfRange(y, TRAIN_ROWS, rows);
  }

  private static MlpTrainer.Options options() {
    return new MlpTrainer.Options(List.of(16, 8), 40, 64, 0.05f, 0.9f, 5L, 0f);
  }

  @Test
  void learnsXorWhereLogisticRegressionCannot() {
    try (MlpTrainer.Trained mlp =
            MlpTrainer.train(trainX, trainY, TRAIN_ROWS, FEATURES, options());
        LogisticRegressionTrainer.Trained logistic =
            LogisticRegressionTrainer.train(
                trainX,
                trainY,
                TRAIN_ROWS,
                FEATURES,
                new LogisticRegressionTrainer.Options(40, 64, 0.2f, 5L, 0f))) {
      double mlpAuc = Metrics.auc(mlp.predict(testX, TEST_ROWS), testY);
      double logisticAuc = Metrics.auc(logistic.predict(testX, TEST_ROWS), testY);

      assertThat(logisticAuc).isLessThan(0.6);
      assertThat(mlpAuc).isGreaterThan(0.8);
      float[] loss = mlp.lossPerEpoch();
      assertThat(loss[loss.length - 1]).isLessThan(loss[0]);
    }
  }

  @Test
  void exportLoadsBackAsADecisionflowModelScoringTheSame(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("model");
    try (MlpTrainer.Trained mlp =
        MlpTrainer.train(trainX, trainY, TRAIN_ROWS, FEATURES, options())) {
      float[] predicted = mlp.predict(testX, TEST_ROWS);
      mlp.export(dir);
      new ModelManifest(
              "xor",
              "v2",
              "test",
              List.of("x0", "x1", "x2"),
              0.5,
              Map.of(),
              Map.of(ModelDigest.MANIFEST_KEY, ModelDigest.of(dir)))
          .write(dir);

      try (TensorFlowModel model = TensorFlowModel.load(dir)) {
        float[] scored = model.score(testX, TEST_ROWS);
        for (int i = 0; i < TEST_ROWS; i++) {
          assertThat(scored[i]).as("row %d", i).isCloseTo(predicted[i], within(1e-6f));
        }
      }
    }
  }

  @Test
  void trainingTwiceWithTheSameSeedExportsTheSameBytes(@TempDir Path tmp) {
    // The model store keeps one artifact per version, so a rebuild must give the same sha256.
    try (MlpTrainer.Trained a = MlpTrainer.train(trainX, trainY, TRAIN_ROWS, FEATURES, options());
        MlpTrainer.Trained b = MlpTrainer.train(trainX, trainY, TRAIN_ROWS, FEATURES, options())) {
      a.export(tmp.resolve("a"));
      b.export(tmp.resolve("b"));
    }

    assertThat(ModelDigest.of(tmp.resolve("a"))).isEqualTo(ModelDigest.of(tmp.resolve("b")));
  }

  @Test
  void isDeterministicGivenTheSeed() {
    try (MlpTrainer.Trained a = MlpTrainer.train(trainX, trainY, TRAIN_ROWS, FEATURES, options());
        MlpTrainer.Trained b = MlpTrainer.train(trainX, trainY, TRAIN_ROWS, FEATURES, options())) {
      assertThat(a.predict(testX, TEST_ROWS)).containsExactly(b.predict(testX, TEST_ROWS));
      assertThat(a.lossPerEpoch()).containsExactly(b.lossPerEpoch());
    }
  }

  @Test
  void optionsDescribeTheArchitectureAndRejectNonsense() {
    assertThat(options().architecture(8)).isEqualTo("mlp 8-16-8-1");
    assertThatThrownBy(() -> new MlpTrainer.Options(List.of(), 1, 1, 0.1f, 0.9f, 1L, 0f))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("hidden");
    assertThatThrownBy(() -> new MlpTrainer.Options(List.of(4), 1, 1, 0.1f, 1f, 1L, 0f))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("momentum");
    assertThatThrownBy(() -> MlpTrainer.train(new float[5], new float[2], 2, 3, options()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("5 values");
  }
}
