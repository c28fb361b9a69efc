package io.decisionflow.tools;

import io.decisionflow.deploy.ModelRegistry;
import io.decisionflow.deploy.ModelStore;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.control.ModelDeployment;
import io.decisionflow.schemas.control.ModelStatus;
import io.decisionflow.stages.score.store.ObjectStoreSettings;
import io.decisionflow.stages.score.store.S3Location;
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
        "and announce it as the current model of a slot on the unit's `models` topic.",
        "The store is a directory or an S3 folder (s3://bucket/prefix). S3 credentials:",
        "--s3-access-key/--s3-secret-key, else the AWS default chain (e.g. the",
        "environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)."
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
        paramLabel = "<dir | s3://bucket/prefix>",
        description =
            "Model store root: a directory every worker can read (a shared volume), or an S3"
                + " folder, e.g. s3://models/decisionflow.")
    String store;

    @Option(
        names = "--s3-endpoint",
        paramLabel = "URL",
        description =
            "S3-compatible server, e.g. http://127.0.0.1:9000 (pulsar-deploy/s3-local.sh);"
                + " default: AWS S3.")
    String s3Endpoint;

    @Option(
        names = "--s3-region",
        paramLabel = "REGION",
        description = "S3 signing region (default: ${DEFAULT-VALUE}).",
        defaultValue = ObjectStoreSettings.DEFAULT_REGION)
    String s3Region;

    @Option(
        names = "--s3-path-style",
        arity = "1",
        paramLabel = "true|false",
        description = "Address buckets path-style (default: true with --s3-endpoint, else false).")
    Boolean s3PathStyle;

    @Option(
        names = "--s3-access-key",
        paramLabel = "KEY",
        description = "S3 access key id (default: the AWS default credentials chain).")
    String s3AccessKey;

    @Option(
        names = "--s3-secret-key",
        paramLabel = "SECRET",
        description = "S3 secret access key, with --s3-access-key (prefer the environment).")
    String s3SecretKey;

    @Override
    public Integer call() throws Exception {
      BusinessNamespace ns = cluster.businessUnit().pipelineNamespace();
      try (ModelStore models = openStore();
          PulsarClient client = cluster.client()) {
        new ModelRegistry(client, System.out::println)
            .publish(
                ns,
                slot,
                model.toAbsolutePath().normalize(),
                models,
                System.getProperty("user.name", "unknown"));
      }
      return 0;
    }

    ModelStore openStore() {
      if (S3Location.isS3(store)) {
        ObjectStoreSettings settings =
            new ObjectStoreSettings(s3Endpoint, s3Region, s3PathStyle, s3AccessKey, s3SecretKey);
        settings.validate();
        return ModelStore.open(store, settings);
      }
      if (s3Endpoint != null || s3AccessKey != null || s3SecretKey != null || s3PathStyle != null) {
        throw new IllegalArgumentException(
            "--s3-* options need an s3://bucket/prefix --store, was " + store);
      }
      if (store.regionMatches(true, 0, "file:", 0, 5)) {
        return ModelStore.open(store, null);
      }
      return ModelStore.open(Path.of(store).toAbsolutePath().normalize().toString(), null);
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
