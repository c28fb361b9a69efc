package io.decisionflow.deploy;

import com.google.protobuf.InvalidProtocolBufferException;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.control.RoutingStatus;
import io.decisionflow.schemas.control.RoutingTable;
import io.decisionflow.stages.route.RoutingTables;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Reader;
import org.apache.pulsar.client.api.Schema;

/**
 * The routing table of a business unit: a {@link RoutingTable} keyed {@value Topics#ROUTING_KEY} on
 * the unit's compacted {@code routing} topic, which every route function instance follows, and what
 * each instance applied or refused, on {@code routing-status}.
 */
public final class RoutingRegistry {

  private final PulsarClient client;
  private final Consumer<String> log;

  public RoutingRegistry(PulsarClient client, Consumer<String> log) {
    this.client = client;
    this.log = log;
  }

  /**
   * Checks {@code table} and publishes it as the unit's routing table. The route functions apply it
   * within seconds, without a restart.
   *
   * @param knownSlots the model slots the pipeline serves ({@link Pipeline#routingSlots})
   * @throws RoutingTables.InvalidRoutingTableException if the table breaks a rule (nothing is
   *     published)
   * @throws IllegalArgumentException if the current table has the same version and other arms
   */
  public RoutingTable publish(
      BusinessNamespace ns, RoutingTable table, Collection<String> knownSlots)
      throws PulsarClientException {
    RoutingTables.validate(table, knownSlots);
    Optional<RoutingTable> current = current(ns);
    if (current.isPresent()
        && current.get().getVersion().equals(table.getVersion())
        && !RoutingTables.sameRouting(current.get(), table)) {
      throw new IllegalArgumentException(
          "version: '"
              + table.getVersion()
              + "' is already the current table of "
              + ns
              + " with other arms ("
              + RoutingTables.describe(current.get())
              + "); a changed table needs a new version");
    }
    RoutingTable stamped =
        table.getPublishedAtMs() == 0
            ? table.toBuilder().setPublishedAtMs(System.currentTimeMillis()).build()
            : table;
    announce(ns, stamped);
    log.accept(
        "routing table "
            + stamped.getVersion()
            + " of "
            + ns
            + " published: "
            + RoutingTables.describe(stamped));
    return stamped;
  }

  /**
   * Publishes {@code table} as is, unchecked: the route functions check it and refuse it if it
   * breaks a rule (what {@link #publish} checks first).
   */
  public void announce(BusinessNamespace ns, RoutingTable table) throws PulsarClientException {
    try (Producer<RoutingTable> producer =
        client.newProducer(Topics.ROUTING.schema()).topic(Topics.ROUTING.in(ns)).create()) {
      producer.newMessage().key(Topics.ROUTING_KEY).value(table).send();
    }
  }

  /** The current routing table, if one was published. */
  public Optional<RoutingTable> current(BusinessNamespace ns) throws PulsarClientException {
    List<RoutingTable> tables = read(ns, true);
    return tables.isEmpty() ? Optional.empty() : Optional.of(tables.get(tables.size() - 1));
  }

  /**
   * Every table published, oldest first, as far as the topic's retention keeps them (records that
   * do not parse are skipped).
   */
  public List<RoutingTable> history(BusinessNamespace ns) throws PulsarClientException {
    return read(ns, false);
  }

  /**
   * What each route function instance last reported: the table it routes by, or the table it
   * refused and why, by {@code <function>/<instance id>}.
   */
  public Map<String, RoutingStatus> statuses(BusinessNamespace ns) throws PulsarClientException {
    Map<String, RoutingStatus> byKey = new TreeMap<>();
    try (Reader<byte[]> reader = reader(Topics.ROUTING_STATUS.in(ns), true)) {
      while (reader.hasMessageAvailable()) {
        Message<byte[]> message = reader.readNext();
        try {
          byKey.put(message.getKey(), RoutingStatus.parseFrom(message.getValue()));
        } catch (InvalidProtocolBufferException e) {
          log.accept("skipping " + message.getMessageId() + ": not a RoutingStatus");
        }
      }
    } catch (java.io.IOException e) {
      throw asClientException(e);
    }
    return byKey;
  }

  private List<RoutingTable> read(BusinessNamespace ns, boolean compacted)
      throws PulsarClientException {
    List<RoutingTable> tables = new ArrayList<>();
    try (Reader<byte[]> reader = reader(Topics.ROUTING.in(ns), compacted)) {
      while (reader.hasMessageAvailable()) {
        Message<byte[]> message = reader.readNext();
        if (!Topics.ROUTING_KEY.equals(message.getKey())) {
          continue;
        }
        try {
          tables.add(RoutingTable.parseFrom(message.getValue()));
        } catch (InvalidProtocolBufferException e) {
          log.accept("skipping " + message.getMessageId() + ": not a RoutingTable");
        }
      }
    } catch (java.io.IOException e) {
      throw asClientException(e);
    }
    return tables;
  }

  private Reader<byte[]> reader(String topic, boolean compacted) throws PulsarClientException {
    return client
        .newReader(Schema.BYTES)
        .topic(topic)
        .startMessageId(MessageId.earliest)
        .readCompacted(compacted)
        .create();
  }

  private static PulsarClientException asClientException(java.io.IOException e) {
    return e instanceof PulsarClientException p ? p : new PulsarClientException(e);
  }
}
