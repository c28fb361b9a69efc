package io.decisionflow.deploy;

import com.google.protobuf.InvalidProtocolBufferException;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.DeadLetter;
import io.decisionflow.schemas.Topics;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Reader;
import org.apache.pulsar.client.api.Schema;

/**
 * A business unit's {@code dead-letters} topic, for people: what is there by stage and reason, and
 * resubmitting selected records to the topic they came from once the cause is fixed. A resubmitted
 * record is the original bytes, key and properties, plus the property {@value #RESUBMITTED_FROM}
 * naming the dead letter, so a record that fails again says where it came from.
 */
public final class DeadLetterQueue {

  /** Property of a resubmitted record: the message id of the dead letter it came from. */
  public static final String RESUBMITTED_FROM = "decisionflow.resubmitted-from";

  /** A dead letter and its message id on the topic. */
  public record Entry(String id, DeadLetter letter) {}

  /** Dead letters of one stage and reason. */
  public record Group(String stage, String reason, long count, long firstMs, long lastMs) {}

  /** What to resubmit: all given criteria must match; empty criteria match everything. */
  public record Selection(String stage, String reasonContains, Set<String> ids) {

    public static final Selection ALL = new Selection(null, null, Set.of());

    public boolean matches(Entry e) {
      return (stage == null || stage.equals(e.letter().getStage()))
          && (reasonContains == null || e.letter().getReason().contains(reasonContains))
          && (ids == null || ids.isEmpty() || ids.contains(e.id()));
    }
  }

  /** A record to publish again. */
  public record Resubmission(
      String topic, String key, Map<String, String> properties, byte[] value) {}

  private final PulsarClient client;
  private final Consumer<String> log;

  public DeadLetterQueue(PulsarClient client, Consumer<String> log) {
    this.client = client;
    this.log = log;
  }

  /**
   * Every dead letter of the unit in this cluster, oldest first. A record that is not a DeadLetter
   * is skipped, and so is one replicated from another region (geo-replication): that region lists
   * and resubmits it, into its own pipeline.
   */
  public List<Entry> read(BusinessNamespace ns) throws java.io.IOException {
    List<Entry> entries = new ArrayList<>();
    Map<String, Integer> replicated = new java.util.TreeMap<>();
    try (Reader<byte[]> reader =
        client
            .newReader(Schema.BYTES)
            .topic(Topics.DEAD_LETTERS.in(ns))
            .startMessageId(MessageId.earliest)
            .create()) {
      while (reader.hasMessageAvailable()) {
        Message<byte[]> message = reader.readNext();
        if (message.isReplicated()) {
          replicated.merge(message.getReplicatedFrom(), 1, Integer::sum);
          continue;
        }
        try {
          entries.add(
              new Entry(
                  message.getMessageId().toString(), DeadLetter.parseFrom(message.getValue())));
        } catch (InvalidProtocolBufferException e) {
          log.accept("skipping " + message.getMessageId() + ": not a DeadLetter (" + e + ")");
        }
      }
    }
    replicated.forEach(
        (region, count) ->
            log.accept(
                "skipped "
                    + count
                    + " dead letters replicated from "
                    + region
                    + ": list and resubmit them there"));
    return entries;
  }

  /** Counts by stage and reason, the largest groups first. */
  public static List<Group> groups(List<Entry> entries) {
    Map<List<String>, List<DeadLetter>> byKey =
        entries.stream()
            .map(Entry::letter)
            .collect(
                Collectors.groupingBy(
                    l -> List.of(l.getStage(), l.getReason()),
                    LinkedHashMap::new,
                    Collectors.toList()));
    return byKey.entrySet().stream()
        .map(
            e ->
                new Group(
                    e.getKey().get(0),
                    e.getKey().get(1),
                    e.getValue().size(),
                    e.getValue().stream().mapToLong(DeadLetter::getTimeMs).min().orElse(0),
                    e.getValue().stream().mapToLong(DeadLetter::getTimeMs).max().orElse(0)))
        .sorted(
            Comparator.comparingLong(Group::count)
                .reversed()
                .thenComparing(Group::stage)
                .thenComparing(Group::reason))
        .toList();
  }

  /**
   * The records to publish again for the selected dead letters.
   *
   * @throws IllegalArgumentException naming the dead letter that does not say where it came from
   */
  public static List<Resubmission> resubmissions(List<Entry> entries, Selection selection) {
    List<Resubmission> out = new ArrayList<>();
    for (Entry e : entries) {
      if (!selection.matches(e)) {
        continue;
      }
      DeadLetter letter = e.letter();
      if (letter.getSourceTopic().isBlank()) {
        throw new IllegalArgumentException(
            "dead letter " + e.id() + " has no source_topic: it cannot be resubmitted");
      }
      Map<String, String> properties = new LinkedHashMap<>(letter.getPropertiesMap());
      properties.put(RESUBMITTED_FROM, e.id());
      out.add(
          new Resubmission(
              letter.getSourceTopic(),
              letter.getKey(),
              properties,
              letter.getOriginal().toByteArray()));
    }
    return out;
  }

  /** Publishes the records (raw bytes, as the stages read them); returns how many. */
  public int resubmit(List<Resubmission> records) throws PulsarClientException {
    Map<String, List<Resubmission>> byTopic =
        records.stream()
            .collect(
                Collectors.groupingBy(
                    Resubmission::topic, LinkedHashMap::new, Collectors.toList()));
    int sent = 0;
    for (Map.Entry<String, List<Resubmission>> topic : byTopic.entrySet()) {
      try (Producer<byte[]> producer =
          client.newProducer(Schema.BYTES).topic(topic.getKey()).create()) {
        for (Resubmission r : topic.getValue()) {
          var message = producer.newMessage().value(r.value()).properties(r.properties());
          if (!r.key().isEmpty()) {
            message.key(r.key());
          }
          message.send();
          sent++;
        }
      }
      log.accept("resubmitted " + topic.getValue().size() + " records to " + topic.getKey());
    }
    return sent;
  }
}
