package io.decisionflow.functions;

import com.google.protobuf.InvalidProtocolBufferException;
import io.decisionflow.schemas.control.ModelDeployment;
import java.util.List;
import java.util.function.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.slf4j.Logger;

/**
 * Follows one slot's {@link ModelDeployment}s on a business unit's compacted {@code models} topic
 * ({@link ControlTopicReader}). A record that does not parse, or that names another slot, is logged
 * and skipped.
 */
final class ModelDeployments implements AutoCloseable {

  private final String slot;
  private final Logger log;
  private final ControlTopicReader<ModelDeployment> reader;

  /** Opens a reader on {@code topic} from its earliest (compacted) record. */
  ModelDeployments(PulsarClient client, String topic, String slot, Logger log)
      throws PulsarClientException {
    this.slot = slot;
    this.log = log;
    this.reader =
        new ControlTopicReader<>(
            client,
            topic,
            "score-" + slot + "-models",
            "score " + slot,
            "model deployment",
            log,
            this::forThisSlot);
  }

  /**
   * Reads the topic up to its end.
   *
   * @return the slot's newest deployment, or null if the slot has none yet
   */
  ModelDeployment current() throws PulsarClientException {
    List<ModelDeployment> all = reader.readToEnd();
    return all.isEmpty() ? null : all.get(all.size() - 1);
  }

  /**
   * Calls {@code onDeployment} with each deployment of the slot announced from now on, one at a
   * time, on a daemon thread of its own (so loading a model never blocks scoring).
   */
  void follow(Consumer<ModelDeployment> onDeployment) {
    reader.follow(onDeployment, "score-" + slot + "-model-deployments");
  }

  private ModelDeployment forThisSlot(Message<byte[]> message) {
    if (!slot.equals(message.getKey())) {
      return null;
    }
    try {
      ModelDeployment deployment = ModelDeployment.parseFrom(message.getValue());
      if (!slot.equals(deployment.getModelSlot())) {
        log.warn(
            "score {}: skipping {} on {}: keyed {} but its model_slot is '{}'",
            slot,
            message.getMessageId(),
            reader.topic(),
            message.getKey(),
            deployment.getModelSlot());
        return null;
      }
      return deployment;
    } catch (InvalidProtocolBufferException e) {
      log.warn(
          "score {}: skipping {} on {}: not a ModelDeployment ({})",
          slot,
          message.getMessageId(),
          reader.topic(),
          e.getMessage());
      return null;
    }
  }

  @Override
  public void close() {
    reader.close();
  }
}
