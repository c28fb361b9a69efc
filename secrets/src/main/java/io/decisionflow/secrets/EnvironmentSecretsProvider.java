package io.decisionflow.secrets;

import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.pulsar.functions.secretsprovider.SecretsProvider;

/**
 * Secrets of a function or sink read from the environment of its instance: the value a secret has
 * in the function's config ({@code secrets: {password: DF_POSTGRES_PASSWORD}}) names an environment
 * variable, and {@link #provideSecret} returns that variable's value. A process-runtime instance
 * inherits the environment of the functions worker that starts it, so the credentials live only in
 * the worker's environment: never in the function's stored definition, never on a command line.
 *
 * <p>Chosen for Java functions and sinks by {@link EnvironmentSecretsConfigurator} (the worker's
 * {@code secretsProviderConfiguratorClassName}).
 */
public final class EnvironmentSecretsProvider implements SecretsProvider {

  private final UnaryOperator<String> environment;

  /** Reads this process's environment. */
  public EnvironmentSecretsProvider() {
    this(System::getenv);
  }

  EnvironmentSecretsProvider(UnaryOperator<String> environment) {
    this.environment = environment;
  }

  @Override
  public void init(Map<String, String> config) {
    // nothing to configure: the secrets name their variables
  }

  /**
   * The value of the environment variable that {@code pathToSecret} names.
   *
   * @throws IllegalArgumentException if {@code pathToSecret} is not a variable name
   * @throws IllegalStateException if the variable is not set, naming the secret and the variable
   */
  @Override
  public String provideSecret(String secretName, Object pathToSecret) {
    if (!(pathToSecret instanceof String variable) || !variable.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      throw new IllegalArgumentException(
          "secret "
              + secretName
              + " must name an environment variable of the functions worker (e.g."
              + " DF_POSTGRES_PASSWORD), was "
              + pathToSecret);
    }
    String value = environment.apply(variable);
    if (value == null) {
      throw new IllegalStateException(
          "secret "
              + secretName
              + ": the environment variable "
              + variable
              + " is not set for the functions worker; start the worker with it (the instances"
              + " inherit its environment)");
    }
    return value;
  }
}
