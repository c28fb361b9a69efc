package io.decisionflow.functions;

import com.google.protobuf.InvalidProtocolBufferException;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.control.RoutingTable;
import java.util.List;
import java.util.function.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.slf4j.Logger;

/**
 * Follows the {@link RoutingTable}s announced on a business unit's compacted {@code routing} topic.
 * Every route (and guard) instance reads the whole topic ({@link ControlTopicReader}), so each
 * instance sees every table, whatever the function's parallelism.
 *
 * <p>Records are read as bytes and parsed here: a record that does not parse, or that is not keyed
 * {@value Topics#ROUTING_KEY}, is logged and skipped, never fatal.
 */
final class RoutingAnnouncements implements RouteFunction.TableSource {

  private final String stage;
  private final Logger log;
  private final ControlTopicReader<RoutingTable> reader;

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
    this.log = log;
    this.reader =
        new ControlTopicReader<>(
            client, topic, readerName, stage, "routing table", log, this::parse);
  }

  @Override
  public List<RoutingTable> announced() throws PulsarClientException {
    return reader.readToEnd();
  }

  @Override
  public void follow(Consumer<RoutingTable> onTable) {
    reader.follow(onTable, stage + "-routing-tables");
  }

  private RoutingTable parse(Message<byte[]> message) {
    if (!Topics.ROUTING_KEY.equals(message.getKey())) {
      log.warn(
          "{}: skipping {} on {}: keyed '{}', routing tables are keyed '{}'",
          stage,
          message.getMessageId(),
          reader.topic(),
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
