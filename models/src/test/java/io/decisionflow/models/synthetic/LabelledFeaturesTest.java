package io.decisionflow.models.synthetic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LabelledFeaturesTest {

  @Test
  void bayesMetricsAreThoseOfTheTrueProbabilities() {
    float[] x = new float[4 * LabelledFeatures.WIDTH];
    LabelledFeatures data =
        new LabelledFeatures(x, new float[] {0, 0, 1, 1}, new float[] {0.1f, 0.4f, 0.35f, 0.8f}, 4);

    assertThat(data.bayesAuc()).isEqualTo(0.75);
    assertThat(data.bayesLogLoss())
        .isCloseTo(
            -(Math.log(1.0 - 0.1f) + Math.log(1.0 - 0.4f) + Math.log(0.35f) + Math.log(0.8f)) / 4,
            within(1e-9));
    assertThat(data.meanProbability()).isCloseTo(0.4125, within(1e-7));
    assertThat(data.positiveRate()).isEqualTo(0.5);
  }

  @Test
  void sliceKeepsRowsLabelsAndProbabilitiesTogether() {
    LabelledFeatures data =
        LabelledFeatures.generate(
            new TransactionGenerator(TransactionGenerator.Options.defaults(1)), 100);
    LabelledFeatures tail = data.slice(90, 100);

    assertThat(tail.rows()).isEqualTo(10);
    assertThat(tail.p()[3]).isEqualTo(data.p()[93]);
    assertThat(tail.y()[3]).isEqualTo(data.y()[93]);
    assertThat(tail.x()[3 * LabelledFeatures.WIDTH + 1])
        .isEqualTo(data.x()[93 * LabelledFeatures.WIDTH + 1]);
  }

  @Test
  void bayesAucOfGeneratedDataIsInformativeButNotPerfect() {
    LabelledFeatures data =
        LabelledFeatures.generate(
            new TransactionGenerator(TransactionGenerator.Options.defaults(11)), 40_000);

    assertThat(data.bayesAuc()).isBetween(0.8, 0.97);
  }
}
