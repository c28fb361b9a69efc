package io.decisionflow.deploy;

import com.google.protobuf.GeneratedMessageV3;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.TopicSpec;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.control.ModelDeployment;
import io.decisionflow.schemas.control.ModelStatus;
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
    announce(ns, deployment);
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

  /**
   * Announces {@code deployment} as the current model of its slot, as is: the score functions of
   * the slot fetch, verify and switch to it, or refuse it and say why on {@code model-status}.
   * {@link #publish} stores the model first; this is for models already stored (e.g. rolling back
   * to an earlier version).
   */
  public void announce(BusinessNamespace ns, ModelDeployment deployment)
      throws PulsarClientException {
    String slot = deployment.getModelSlot();
    Topics.scoring(slot); // checks the slot's name
    try (Producer<ModelDeployment> producer =
        client.newProducer(Topics.MODELS.schema()).topic(Topics.MODELS.in(ns)).create()) {
      producer.newMessage().key(slot).value(deployment).send();
    }
  }

  /** The current deployment of every slot that has one, by slot. */
  public Map<String, ModelDeployment> current(BusinessNamespace ns) throws IOException {
    return newestByKey(Topics.MODELS, ns);
  }

  /**
   * What each score function instance last reported: the version it serves, or the version it
   * refused and why, by {@code <slot>/<instance id>}.
   */
  public Map<String, ModelStatus> statuses(BusinessNamespace ns) throws IOException {
    return newestByKey(Topics.MODEL_STATUS, ns);
  }

  private <T extends GeneratedMessageV3> Map<String, T> newestByKey(
      TopicSpec<T> topic, BusinessNamespace ns) throws IOException {
    Map<String, T> byKey = new TreeMap<>();
    try (Reader<T> reader =
        client
            .newReader(topic.schema())
            .topic(topic.in(ns))
            .startMessageId(MessageId.earliest)
            .readCompacted(true)
            .create()) {
      while (reader.hasMessageAvailable()) {
        Message<T> message = reader.readNext();
        byKey.put(message.getKey(), message.getValue());
      }
    }
    return byKey;
  }
}
