package io.decisionflow.models.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class MetricsTest {

  @Test
  void aucIsOneWhenPositivesRankAboveNegatives() {
    assertThat(Metrics.auc(new float[] {0.1f, 0.4f, 0.35f, 0.8f}, new float[] {0, 0, 1, 1}))
        .isEqualTo(0.75);
    assertThat(Metrics.auc(new float[] {0.1f, 0.2f, 0.3f, 0.4f}, new float[] {0, 0, 1, 1}))
        .isEqualTo(1.0);
    assertThat(Metrics.auc(new float[] {0.4f, 0.3f, 0.2f, 0.1f}, new float[] {0, 0, 1, 1}))
        .isEqualTo(0.0);
  }

  @Test
  void aucCountsTiesAsOneHalf() {
    assertThat(Metrics.auc(new float[] {0.5f, 0.5f}, new float[] {0, 1})).isEqualTo(0.5);
    // Pairs (pos, neg): (0.5 vs 0.5) = 1/2, (0.5 vs 0.2) = 1, (0.9 vs 0.5) = 1, (0.9 vs 0.2) = 1.
    assertThat(Metrics.auc(new float[] {0.5f, 0.2f, 0.5f, 0.9f}, new float[] {0, 0, 1, 1}))
        .isEqualTo(3.5 / 4);
  }

  @Test
  void aucDoesNotDependOnOrderOfRows() {
    assertThat(Metrics.auc(new float[] {0.8f, 0.1f, 0.35f, 0.4f}, new float[] {1, 0, 1, 0}))
        .isEqualTo(0.75);
  }

  @Test
  void aucRejectsOneClassAndBadInput() {
    assertThatThrownBy(() -> Metrics.auc(new float[] {0.1f, 0.2f}, new float[] {1, 1}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("0 negatives");
    assertThatThrownBy(() -> Metrics.auc(new float[] {0.1f}, new float[] {1, 0}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1 scores but 2 labels");
    assertThatThrownBy(() -> Metrics.auc(new float[] {0.1f, 0.2f}, new float[] {1, 0.5f}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("labels[1]");
    assertThatThrownBy(() -> Metrics.auc(new float[] {Float.NaN, 0.2f}, new float[] {1, 0}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("scores[0] is NaN");
  }

  @Test
  void logLossOfKnownCases() {
    assertThat(Metrics.logLoss(new float[] {0.5f, 0.5f}, new float[] {0, 1}))
        .isCloseTo(Math.log(2), within(1e-12));
    // -(ln 0.8 + ln(1 - 0.25)) / 2
    assertThat(Metrics.logLoss(new float[] {0.8f, 0.25f}, new float[] {1, 0}))
        .isCloseTo(-(Math.log(0.8f) + Math.log(1 - 0.25)) / 2, within(1e-12));
    assertThat(Metrics.logLoss(new float[] {1f, 0f}, new float[] {1, 0}))
        .isCloseTo(0, within(1e-6));
  }

  @Test
  void logLossClipsCertainMistakes() {
    assertThat(Metrics.logLoss(new float[] {0f}, new float[] {1}))
        .isCloseTo(-Math.log(Metrics.EPSILON), within(1e-9));
    assertThat(Metrics.logLoss(new float[] {1f}, new float[] {0})).isFinite();
  }

  @Test
  void logLossRejectsNoRows() {
    assertThatThrownBy(() -> Metrics.logLoss(new float[0], new float[0]))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
