package io.decisionflow.stages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.stages.decide.DecideConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

  @Test
  void retriesWithADoublingWaitUntilTheLastAttemptThenGivesUp() {
    RetryPolicy policy = new RetryPolicy(5, 1000);
    List<RetryPolicy.Next> steps = new ArrayList<>();
    for (int attempt = 1; attempt <= 5; attempt++) {
      steps.add(policy.after(attempt));
    }
    assertThat(steps)
        .containsExactly(
            new RetryPolicy.Next(true, 1000),
            new RetryPolicy.Next(true, 2000),
            new RetryPolicy.Next(true, 4000),
            new RetryPolicy.Next(true, 8000),
            new RetryPolicy.Next(false, 0));
  }

  @Test
  void theWaitStopsGrowingAtOneMinute() {
    assertThat(new RetryPolicy(100, 10_000).after(30))
        .isEqualTo(new RetryPolicy.Next(true, 60_000));
  }

  @Test
  void oneAttemptMeansNoRetry() {
    assertThat(new RetryPolicy(1, 1000).after(1).retry()).isFalse();
  }

  @Test
  void defaultsAndNumbersAsTheyArriveInAUserConfig() {
    assertThat(RetryPolicy.load(Map.of())).isEqualTo(RetryPolicy.DEFAULT);
    assertThat(RetryPolicy.load(Map.of("maxAttempts", 3.0, "retryDelayMs", "250")))
        .isEqualTo(new RetryPolicy(3, 250));
  }

  @Test
  void badSettingsFailAtDeployNamingTheSettingAndTheValue() {
    // Every stage's config takes them: checked with the stage's own settings
    assertThatThrownBy(
            () -> StageConfigs.load(Map.of("threshold", 0.5, "maxAttempts", 0), DecideConfig.class))
        .isInstanceOf(ConfigException.class)
        .hasMessage("userConfig.maxAttempts: must be >= 1 and <= 100, was 0");
    assertThatThrownBy(() -> RetryPolicy.load(Map.of("retryDelayMs", "soon")))
        .hasMessage("userConfig.retryDelayMs: expected a whole number, was 'soon'");
    assertThat(
            StageConfigs.load(
                    Map.of("threshold", 0.5, "maxAttempts", 2, "retryDelayMs", 10),
                    DecideConfig.class)
                .threshold)
        .isEqualTo(0.5);
  }
}
