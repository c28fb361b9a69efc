package io.decisionflow.tools;

import io.decisionflow.deploy.ModelRegistry;
import io.decisionflow.deploy.ModelStore;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.control.ModelDeployment;
import io.decisionflow.schemas.control.ModelStatus;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.pulsar.client.api.PulsarClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The model registry of a business unit: publish a model for a slot, list what slots run. */
@Command(
    name = "models",
    mixinStandardHelpOptions = true,
    description = "Publish models to a business unit's slots and list what each slot runs.",
    subcommands = {ModelsCommand.Publish.class, ModelsCommand.ListSlots.class})
final class ModelsCommand {

  @Command(
      name = "publish",
      mixinStandardHelpOptions = true,
      description = {
        "Copy a model directory into the model store (checked against its manifest's sha256)",
        "and announce it as the current model of a slot on the unit's `models` topic."
      })
  static final class Publish implements Callable<Integer> {
    @Mixin ClusterOptions cluster;

    @Option(names = "--slot", required = true, description = "Model slot, e.g. champion.")
    String slot;

    @Option(names = "--model", required = true, description = "Model directory to publish.")
    Path model;

    @Option(
        names = "--store",
        required = true,
        description = "Model store root, an absolute path every worker can read.")
    Path store;

    @Override
    public Integer call() throws Exception {
      BusinessNamespace ns = cluster.businessUnit().pipelineNamespace();
      try (PulsarClient client = cluster.client()) {
        new ModelRegistry(client, System.out::println)
            .publish(
                ns,
                slot,
                model.toAbsolutePath().normalize(),
                new ModelStore(store.toAbsolutePath().normalize()),
                System.getProperty("user.name", "unknown"));
      }
      return 0;
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = {
        "What each slot should run (the announced model), and what each score function instance",
        "serves and last refused, from the unit's `model-status` topic."
      })
  static final class ListSlots implements Callable<Integer> {
    @Mixin ClusterOptions cluster;

    @Override
    public Integer call() throws Exception {
      BusinessNamespace ns = cluster.businessUnit().pipelineNamespace();
      try (PulsarClient client = cluster.client()) {
        ModelRegistry registry = new ModelRegistry(client, line -> {});
        Map<String, ModelDeployment> current = registry.current(ns);
        if (current.isEmpty()) {
          System.out.println(ns + ": no model published yet");
        }
        current.forEach(
            (slot, d) ->
                System.out.printf(
                    "%-12s %s %s  %s  sha256 %s  feature spec %s  announced %s by %s%n",
                    slot,
                    d.getModelName(),
                    d.getModelVersion(),
                    d.getUri(),
                    d.getSha256().substring(0, Math.min(12, d.getSha256().length())),
                    d.getFeatureSpecVersion(),
                    Instant.ofEpochMilli(d.getAnnouncedAtMs()),
                    d.getAnnouncedBy()));
        Map<String, ModelStatus> statuses = registry.statuses(ns);
        if (!statuses.isEmpty()) {
          System.out.println("score function instances:");
        }
        statuses.forEach(
            (instance, s) ->
                System.out.printf(
                    "  %-14s serves %s %s%s  (%s)%n",
                    instance,
                    s.getServingName(),
                    s.getServingVersion(),
                    s.getEvent() == ModelStatus.Event.REFUSED
                        ? "; REFUSED " + s.getRequestedVersion() + ": " + s.getReason()
                        : "",
                    Instant.ofEpochMilli(s.getTimeMs())));
      }
      return 0;
    }
  }
}
