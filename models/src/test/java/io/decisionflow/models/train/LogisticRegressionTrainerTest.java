package io.decisionflow.models.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.decisionflow.models.train.LogisticRegressionTrainer.Options;
import io.decisionflow.models.train.LogisticRegressionTrainer.Trained;
import io.decisionflow.stages.score.SavedModelScorer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogisticRegressionTrainerTest {

  private static final int FEATURES = 3;
  private static final int TRAIN_ROWS = 3000;
  private static final int TEST_ROWS = 1000;

  private static float[] trainX;
  private static float[] trainY;
  private static float[] testX;
  private static float[] testY;

  /**
   * label ~ Bernoulli(sigmoid(2 x0 - 1.5 x1 + 0.5)); x2 is noise. The features have different
   * scales and offsets so that the in-graph standardization matters.
   */
  @BeforeAll
  static void generate() {
    Random random = new Random(7);
    int rows = TRAIN_ROWS + TEST_ROWS;
    float[] x = new float[rows * FEATURES];
    float[] y = new float[rows];
    for (int r = 0; r < rows; r++) {
      double x0 = random.nextGaussian();
      double x1 = random.nextGaussian();
      double x2 = random.nextGaussian();
      // Raw features: x0 as is, x1 scaled by 100 and offset by 50, x2 offset by -3.
      x[r * FEATURES] = (float) x0;
      x[r * FEATURES + 1] = (float) (50 + 100 * x1);
      x[r * FEATURES + 2] = (float) (x2 - 3);
      double p = 1 / (1 + Math.exp(-(2 * x0 - 1.5 * x1 + 0.5)));
      y[r] = random.nextDouble() < p ? 1f : 0f;
    }
    trainX = Arrays.copyOfRange(x, 0, TRAIN_ROWS * FEATURES);
    trainY = Arrays.copyOfRange(y, 0, TRAIN_ROWS);
    testX = Arrays.copyOfRange(x, TRAIN_ROWS * FEATURES, rows * FEATURES);
    testY = Arrays.copyOfRange(y, TRAIN_ROWS, rows);
  }

  private static Options options() {
    return new Options(5, 64, 0.3f, 11L, 0f);
  }

  @Test
  void learnsTheSyntheticRuleAndExportsAnEquivalentSavedModel(@TempDir Path tmp) {
    Path dir = tmp.resolve("model");
    try (Trained trained =
        LogisticRegressionTrainer.train(trainX, trainY, TRAIN_ROWS, FEATURES, options())) {
      float[] predicted = trained.predict(testX, TEST_ROWS);
      assertThat(predicted).hasSize(TEST_ROWS);
      for (float p : predicted) {
        assertThat(p).isBetween(0f, 1f);
      }
      assertThat(Metrics.auc(predicted, testY)).isGreaterThan(0.75);
      assertThat(Metrics.logLoss(predicted, testY)).isLessThan(0.55);

      float[] loss = trained.lossPerEpoch();
      assertThat(loss).hasSize(5);
      assertThat(loss[loss.length - 1]).isLessThan(loss[0]);

      // Weights are on standardized features: x0 pushes up, x1 pushes down, x2 is noise.
      float[] w = trained.weights();
      assertThat(w[0]).isGreaterThan(1f);
      assertThat(w[1]).isLessThan(-1f);
      assertThat(Math.abs(w[2])).isLessThan(0.3f);
      assertThat(trained.featureMeans()[1]).isCloseTo(50f, within(10f));
      assertThat(trained.featureStds()[1]).isCloseTo(100f, within(10f));

      trained.export(dir);

      try (SavedModelScorer scorer = SavedModelScorer.load(dir)) {
        assertThat(scorer.featureCount()).isEqualTo(FEATURES);
        float[] scored = scorer.score(testX, TEST_ROWS);
        assertThat(scored).hasSize(TEST_ROWS);
        for (int i = 0; i < TEST_ROWS; i++) {
          assertThat(scored[i]).as("row %d", i).isCloseTo(predicted[i], within(1e-6f));
        }
        float[] one = scorer.score(Arrays.copyOfRange(testX, 0, FEATURES), 1);
        assertThat(one[0]).isCloseTo(predicted[0], within(1e-6f));
        assertThatThrownBy(() -> scorer.score(new float[4], 2))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("4")
            .hasMessageContaining("6");
      }
    }
  }

  @Test
  void isDeterministicGivenTheSeed() {
    try (Trained a =
            LogisticRegressionTrainer.train(trainX, trainY, TRAIN_ROWS, FEATURES, options());
        Trained b =
            LogisticRegressionTrainer.train(trainX, trainY, TRAIN_ROWS, FEATURES, options())) {
      assertThat(a.weights()).containsExactly(b.weights());
      assertThat(a.bias()).isEqualTo(b.bias());
      assertThat(a.predict(testX, TEST_ROWS)).containsExactly(b.predict(testX, TEST_ROWS));
    }
  }

  @Test
  void l2PenaltyShrinksTheWeights() {
    Options plain = options();
    Options penalized =
        new Options(plain.epochs(), plain.batchSize(), plain.learningRate(), plain.seed(), 0.05f);
    try (Trained a = LogisticRegressionTrainer.train(trainX, trainY, TRAIN_ROWS, FEATURES, plain);
        Trained b =
            LogisticRegressionTrainer.train(trainX, trainY, TRAIN_ROWS, FEATURES, penalized)) {
      assertThat(norm(b.weights())).isLessThan(norm(a.weights()) * 0.8);
      assertThat(Metrics.auc(b.predict(testX, TEST_ROWS), testY)).isGreaterThan(0.75);
    }
  }

  private static double norm(float[] w) {
    double sum = 0;
    for (float v : w) {
      sum += v * v;
    }
    return Math.sqrt(sum);
  }

  @Test
  void rejectsMismatchedSizes() {
    assertThatThrownBy(
            () -> LogisticRegressionTrainer.train(new float[5], new float[2], 2, 3, options()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("5 values");
    assertThatThrownBy(
            () -> LogisticRegressionTrainer.train(new float[6], new float[3], 2, 3, options()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("3 labels for 2 rows");
    assertThatThrownBy(() -> new Options(0, 64, 0.05f, 1L, 0f))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("epochs");
  }
}
