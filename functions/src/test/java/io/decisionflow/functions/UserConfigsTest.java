package io.decisionflow.functions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.stages.ConfigException;
import java.util.List;
import java.util.Map;
import org.apache.pulsar.functions.api.Function;
import org.junit.jupiter.api.Test;

class UserConfigsTest {

  @Test
  void namesEveryFunctionClassThatExists() throws Exception {
    assertThat(UserConfigs.BY_FUNCTION.keySet())
        .containsExactlyInAnyOrderElementsOf(
            List.of(
                EnrichFunction.class.getName(),
                RouteFunction.class.getName(),
                ScoreFunction.class.getName(),
                DecideFunction.class.getName(),
                GuardFunction.class.getName(),
                io.decisionflow.functions.baseline.BlockingEnrichFunction.class.getName(),
                FusedFunction.class.getName()));
    for (String name : UserConfigs.BY_FUNCTION.keySet()) {
      assertThat(Function.class).isAssignableFrom(Class.forName(name));
    }
  }

  @Test
  void rejectsABadConfigNamingTheField() {
    assertThatThrownBy(
            () -> UserConfigs.validate(DecideFunction.class.getName(), Map.of("threshold", 1.5)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("userConfig.threshold")
        .hasMessageContaining("1.5");
  }

  @Test
  void ignoresDeploymentMetadataKeys() {
    UserConfigs.validate(
        DecideFunction.class.getName(),
        Map.of("threshold", 0.5, "_deployment", Map.of("codeSha256", "abc")));
  }

  @Test
  void rejectsAClassThatIsNotADecisionflowFunction() {
    assertThatThrownBy(() -> UserConfigs.validate("com.example.Other", Map.of()))
        .hasMessageContaining("className")
        .hasMessageContaining("com.example.Other");
  }
}
