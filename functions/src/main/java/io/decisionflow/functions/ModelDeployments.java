package io.decisionflow.functions;

import com.google.protobuf.InvalidProtocolBufferException;
import io.decisionflow.schemas.control.ModelDeployment;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Reader;
import org.apache.pulsar.client.api.Schema;
import org.slf4j.Logger;

/**
 * Follows one slot's {@link ModelDeployment}s on a business unit's compacted {@code models} topic.
 * Every score function instance reads the whole topic with its own non-durable reader, so each
 * instance sees every announcement, whatever the function's parallelism.
 *
 * <p>Records are read as bytes and parsed here: a record that does not parse, or that names another
 * slot, is logged and skipped, never fatal.
 */
final class ModelDeployments implements AutoCloseable {

  private static final long POLL_MS = 500;

  private final String topic;
  private final String slot;
  private final Logger log;
  private final Reader<byte[]> reader;
  private volatile boolean closed;
  private Thread follower;

  /** Opens a reader on {@code topic} from its earliest (compacted) record. */
  ModelDeployments(PulsarClient client, String topic, String slot, Logger log)
      throws PulsarClientException {
    this.topic = topic;
    this.slot = slot;
    this.log = log;
    this.reader =
        client
            .newReader(Schema.BYTES)
            .topic(topic)
            .startMessageId(MessageId.earliest)
            .readCompacted(true)
            .readerName("score-" + slot + "-models")
            .create();
  }

  /**
   * Reads the topic up to its end.
   *
   * @return the slot's newest deployment, or null if the slot has none yet
   */
  ModelDeployment current() throws PulsarClientException {
    ModelDeployment newest = null;
    while (reader.hasMessageAvailable()) {
      Message<byte[]> message = reader.readNext(10, TimeUnit.SECONDS);
      if (message == null) {
        break;
      }
      ModelDeployment parsed = forThisSlot(message);
      if (parsed != null) {
        newest = parsed;
      }
    }
    return newest;
  }

  /**
   * Calls {@code onDeployment} with each deployment of the slot announced from now on, one at a
   * time, on a daemon thread of its own (so loading a model never blocks scoring).
   */
  void follow(Consumer<ModelDeployment> onDeployment) {
    Objects.requireNonNull(onDeployment, "onDeployment");
    follower =
        new Thread(
            () -> {
              while (!closed) {
                try {
                  Message<byte[]> message = reader.readNext((int) POLL_MS, TimeUnit.MILLISECONDS);
                  ModelDeployment parsed = message == null ? null : forThisSlot(message);
                  if (parsed != null) {
                    onDeployment.accept(parsed);
                  }
                } catch (PulsarClientException e) {
                  if (!closed) {
                    log.warn(
                        "score {}: reading {} failed, retrying: {}", slot, topic, e.toString());
                    pause();
                  }
                } catch (RuntimeException e) {
                  log.error("score {}: handling a model deployment failed", slot, e);
                }
              }
            },
            "score-" + slot + "-model-deployments");
    follower.setDaemon(true);
    follower.start();
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
            topic,
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
          topic,
          e.getMessage());
      return null;
    }
  }

  private void pause() {
    try {
      Thread.sleep(POLL_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    closed = true;
    if (follower != null) {
      follower.interrupt();
      try {
        follower.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    reader.closeAsync();
  }
}
