package io.decisionflow.secrets;

import org.apache.pulsar.functions.proto.Function.FunctionDetails;
import org.apache.pulsar.functions.secretsproviderconfigurator.DefaultSecretsProviderConfigurator;

/**
 * The functions worker's secrets configurator for the process runtime, {@code
 * secretsProviderConfiguratorClassName: io.decisionflow.secrets.EnvironmentSecretsConfigurator} in
 * {@code functions_worker.yml}: Java functions and sinks read their secrets with {@link
 * EnvironmentSecretsProvider} (a secret names an environment variable of the worker, which the
 * instance inherits). Other runtimes keep Pulsar's default provider.
 */
public class EnvironmentSecretsConfigurator extends DefaultSecretsProviderConfigurator {

  @Override
  public String getSecretsProviderClassName(FunctionDetails functionDetails) {
    if (functionDetails.getRuntime() == FunctionDetails.Runtime.JAVA) {
      return EnvironmentSecretsProvider.class.getName();
    }
    return super.getSecretsProviderClassName(functionDetails);
  }
}
