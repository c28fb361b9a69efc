package io.decisionflow.secrets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.apache.pulsar.functions.proto.Function.FunctionDetails;
import org.junit.jupiter.api.Test;

class EnvironmentSecretsProviderTest {

  private final EnvironmentSecretsProvider provider =
      new EnvironmentSecretsProvider(Map.of("DF_POSTGRES_PASSWORD", "s3cret")::get);

  @Test
  void aSecretIsTheValueOfTheVariableItNames() {
    assertThat(provider.provideSecret("password", "DF_POSTGRES_PASSWORD")).isEqualTo("s3cret");
  }

  @Test
  void anUnsetVariableIsRefusedNamingTheSecretAndTheVariable() {
    assertThatThrownBy(() -> provider.provideSecret("userName", "DF_POSTGRES_USER"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("secret userName")
        .hasMessageContaining("DF_POSTGRES_USER is not set");
  }

  @Test
  void aValueThatIsNoVariableNameIsRefused() {
    // e.g. the password itself, given where its variable's name belongs
    assertThatThrownBy(() -> provider.provideSecret("password", "hunter 2!"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("secret password must name an environment variable")
        .hasMessageContaining("was hunter 2!");
    assertThatThrownBy(() -> provider.provideSecret("password", null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void javaFunctionsAndSinksGetThisProviderOthersPulsarsDefault() {
    EnvironmentSecretsConfigurator configurator = new EnvironmentSecretsConfigurator();
    assertThat(
            configurator.getSecretsProviderClassName(
                FunctionDetails.newBuilder().setRuntime(FunctionDetails.Runtime.JAVA).build()))
        .isEqualTo(EnvironmentSecretsProvider.class.getName());
    assertThat(
            configurator.getSecretsProviderClassName(
                FunctionDetails.newBuilder().setRuntime(FunctionDetails.Runtime.PYTHON).build()))
        .isNotEqualTo(EnvironmentSecretsProvider.class.getName());
  }
}
