package io.decisionflow.functions;

import com.google.protobuf.InvalidProtocolBufferException;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.control.RoutingTable;
import java.util.ArrayList;
import java.util.List;
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
 * Follows the {@link RoutingTable}s announced on a business unit's compacted {@code routing} topic.
 * Every route function instance reads the whole topic with its own non-durable reader, so each
 * instance sees every table, whatever the function's parallelism.
 *
 * <p>Records are read as bytes and parsed here: a record that does not parse, or that is not keyed
 * {@value Topics#ROUTING_KEY}, is logged and skipped, never fatal.
 */
final class RoutingAnnouncements implements RouteFunction.TableSource {

  private static final long POLL_MS = 500;

  private final String topic;
  private final String stage;
  private final Logger log;
  private final Reader<byte[]> reader;
  private volatile boolean closed;
  private Thread follower;

  /** Opens a reader on {@code topic} from its earliest (compacted) record. */
  RoutingAnnouncements(PulsarClient client, String topic, String readerName, Logger log)
      throws PulsarClientException {
    this(client, topic, readerName, log, "route");
  }

  /**
   * Opens a reader on {@code topic} from its earliest (compacted) record.
   *
   * @param stage the stage that follows the tables, which its log lines name
   */
  RoutingAnnouncements(
      PulsarClient client, String topic, String readerName, Logger log, String stage)
      throws PulsarClientException {
    this.stage = stage;
    this.topic = topic;
    this.log = log;
    this.reader =
        client
            .newReader(Schema.BYTES)
            .topic(topic)
            .startMessageId(MessageId.earliest)
            .readCompacted(true)
            .readerName(readerName)
            .create();
  }

  @Override
  public List<RoutingTable> announced() throws PulsarClientException {
    List<RoutingTable> tables = new ArrayList<>();
    while (reader.hasMessageAvailable()) {
      Message<byte[]> message = reader.readNext(10, TimeUnit.SECONDS);
      if (message == null) {
        break;
      }
      RoutingTable parsed = parse(message);
      if (parsed != null) {
        tables.add(parsed);
      }
    }
    return tables;
  }

  @Override
  public void follow(Consumer<RoutingTable> onTable) {
    Objects.requireNonNull(onTable, "onTable");
    follower =
        new Thread(
            () -> {
              while (!closed) {
                try {
                  Message<byte[]> message = reader.readNext((int) POLL_MS, TimeUnit.MILLISECONDS);
                  RoutingTable parsed = message == null ? null : parse(message);
                  if (parsed != null) {
                    onTable.accept(parsed);
                  }
                } catch (PulsarClientException e) {
                  if (!closed) {
                    log.warn("{}: reading {} failed, retrying: {}", stage, topic, e.toString());
                    pause();
                  }
                } catch (RuntimeException e) {
                  log.error(stage + ": handling a routing table failed", e);
                }
              }
            },
            stage + "-routing-tables");
    follower.setDaemon(true);
    follower.start();
  }

  private RoutingTable parse(Message<byte[]> message) {
    if (!Topics.ROUTING_KEY.equals(message.getKey())) {
      log.warn(
          "{}: skipping {} on {}: keyed '{}', routing tables are keyed '{}'",
          stage,
          message.getMessageId(),
          topic,
          message.getKey(),
          Topics.ROUTING_KEY);
      return null;
    }
    try {
      return RoutingTable.parseFrom(message.getValue());
    } catch (InvalidProtocolBufferException e) {
      log.warn(
          "{}: skipping {} on {}: not a RoutingTable ({})",
          stage,
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
