package io.decisionflow.deploy;

import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.control.ModelDeployment;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Reader;

/**
 * Which model each slot of a business unit runs: model versions live in a {@link ModelStore}, and a
 * {@link ModelDeployment} keyed by slot on the unit's compacted {@code models} topic says which one
 * is current.
 */
public final class ModelRegistry {

  private final PulsarClient client;
  private final Consumer<String> log;

  public ModelRegistry(PulsarClient client, Consumer<String> log) {
    this.client = client;
    this.log = log;
  }

  /** Stores the model in {@code modelDir} and announces it as the current model of {@code slot}. */
  public ModelDeployment publish(
      BusinessNamespace ns, String slot, Path modelDir, ModelStore store, String announcedBy)
      throws PulsarClientException {
    Topics.scoring(slot); // checks the slot's name
    ModelStore.Stored stored = store.put(modelDir);
    ModelDeployment deployment =
        ModelDeployment.newBuilder()
            .setModelSlot(slot)
            .setModelName(stored.manifest().name())
            .setModelVersion(stored.manifest().version())
            .setUri(stored.uri())
            .setSha256(stored.sha256())
            .setFeatureSpecVersion(stored.manifest().featureSpecVersion())
            .setAnnouncedAtMs(System.currentTimeMillis())
            .setAnnouncedBy(announcedBy)
            .build();
    try (Producer<ModelDeployment> producer =
        client.newProducer(Topics.MODELS.schema()).topic(Topics.MODELS.in(ns)).create()) {
      producer.newMessage().key(slot).value(deployment).send();
    }
    log.accept(
        (stored.copied() ? "stored " : "already stored ")
            + deployment.getModelName()
            + " "
            + deployment.getModelVersion()
            + " at "
            + deployment.getUri()
            + "; slot "
            + slot
            + " of "
            + ns
            + " now runs it");
    return deployment;
  }

  /** The current deployment of every slot that has one, by slot. */
  public Map<String, ModelDeployment> current(BusinessNamespace ns) throws IOException {
    Map<String, ModelDeployment> bySlot = new TreeMap<>();
    try (Reader<ModelDeployment> reader =
        client
            .newReader(Topics.MODELS.schema())
            .topic(Topics.MODELS.in(ns))
            .startMessageId(MessageId.earliest)
            .readCompacted(true)
            .create()) {
      while (reader.hasMessageAvailable()) {
        Message<ModelDeployment> message = reader.readNext();
        bySlot.put(message.getKey(), message.getValue());
      }
    }
    return bySlot;
  }
}
