package io.decisionflow.deploy;

import com.google.protobuf.InvalidProtocolBufferException;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.reference.MerchantRisk;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.enrich.MerchantRiskValidator;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Reader;
import org.apache.pulsar.client.api.Schema;

/**
 * The merchant reference table of a business unit: a {@link MerchantRisk} per merchant, keyed by
 * merchant id, on the unit's compacted {@code merchants} topic, which every enrich function
 * instance reads as a table and follows live. A record with an empty value (a tombstone) deletes
 * its merchant.
 */
public final class MerchantRegistry {

  /** Records between two progress lines of {@link #publish}. */
  public static final int PROGRESS_EVERY = 10_000;

  /**
   * A change to the table.
   *
   * @param merchantId the merchant, the record's key
   * @param row the merchant's new row; null to delete the merchant
   */
  public record Change(String merchantId, MerchantRisk row) {

    public Change {
      Objects.requireNonNull(merchantId, "merchantId");
    }

    /** Sets a merchant's row, adding the merchant if it is new. */
    public static Change upsert(MerchantRisk row) {
      return new Change(row.getMerchantId(), row);
    }

    /** Deletes a merchant: from then on it is unknown. */
    public static Change delete(String merchantId) {
      return new Change(merchantId, null);
    }

    public boolean deletes() {
      return row == null;
    }
  }

  /** What {@link #publish} stored: merchants set, and merchants deleted. */
  public record Summary(long published, long deleted) {}

  private final PulsarClient client;
  private final Consumer<String> log;

  public MerchantRegistry(PulsarClient client, Consumer<String> log) {
    this.client = client;
    this.log = log;
  }

  /**
   * The changes that make a unit's table hold {@code rows} and none of {@code deleted}, e.g. the
   * synthetic generator's table and its unknown merchants.
   */
  public static List<Change> changes(List<MerchantRisk> rows, Collection<String> deleted) {
    List<Change> changes = new ArrayList<>();
    rows.forEach(row -> changes.add(Change.upsert(row)));
    deleted.forEach(id -> changes.add(Change.delete(id)));
    return changes;
  }

  /**
   * Checks every change, then publishes them in order, keyed by merchant id, and returns once the
   * broker has stored them all. The enrich functions apply them live, without a restart. A row
   * without {@code updated_at_ms} is stamped with the time of publishing. Logs a progress line
   * every {@value #PROGRESS_EVERY} records.
   *
   * @throws IllegalArgumentException if a row cannot enter the table (nothing is published)
   */
  public Summary publish(BusinessNamespace ns, List<Change> changes) throws PulsarClientException {
    for (Change change : changes) {
      check(change);
    }
    String topic = Topics.MERCHANTS.in(ns);
    long now = System.currentTimeMillis();
    long published = 0;
    long deleted = 0;
    try (Producer<MerchantRisk> producer =
        client
            .newProducer(Topics.MERCHANTS.schema())
            .topic(topic)
            .enableBatching(true)
            .batchingMaxPublishDelay(5, TimeUnit.MILLISECONDS)
            .blockIfQueueFull(true)
            .create()) {
      List<CompletableFuture<MessageId>> sent = new ArrayList<>(changes.size());
      for (Change change : changes) {
        MerchantRisk row = change.row();
        if (row != null && row.getUpdatedAtMs() == 0) {
          row = row.toBuilder().setUpdatedAtMs(now).build();
        }
        sent.add(producer.newMessage().key(change.merchantId()).value(row).sendAsync());
        if (change.deletes()) {
          deleted++;
        } else {
          published++;
        }
        if (sent.size() % PROGRESS_EVERY == 0 && sent.size() < changes.size()) {
          log.accept("merchants: sent " + sent.size() + " of " + changes.size() + " to " + topic);
        }
      }
      producer.flush();
      try {
        CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).join();
      } catch (CompletionException e) {
        throw e.getCause() instanceof PulsarClientException p ? p : new PulsarClientException(e);
      }
    }
    return new Summary(published, deleted);
  }

  private static void check(Change change) {
    if (change.deletes()) {
      if (change.merchantId().isBlank()) {
        throw new IllegalArgumentException("merchant_id is required to delete a merchant");
      }
      return;
    }
    try {
      MerchantRiskValidator.validate(change.row());
    } catch (InvalidRecordException e) {
      throw new IllegalArgumentException(
          "merchant '" + change.merchantId() + "': " + e.getMessage(), e);
    }
    if (!change.merchantId().equals(change.row().getMerchantId())) {
      throw new IllegalArgumentException(
          "merchant '"
              + change.merchantId()
              + "': the row names merchant '"
              + change.row().getMerchantId()
              + "'");
    }
  }

  /**
   * The unit's table as the enrich functions see it: the compacted topic read to its end,
   * tombstones applied, by merchant id. Records the enrich functions ignore (that do not parse, or
   * whose row cannot enter the table) are skipped here too, and logged.
   */
  public Map<String, MerchantRisk> table(BusinessNamespace ns) throws PulsarClientException {
    Map<String, MerchantRisk> table = new TreeMap<>();
    try (Reader<byte[]> reader =
        client
            .newReader(Schema.BYTES)
            .topic(Topics.MERCHANTS.in(ns))
            .startMessageId(MessageId.earliest)
            .readCompacted(true)
            .create()) {
      while (reader.hasMessageAvailable()) {
        Message<byte[]> message = reader.readNext();
        if (!message.hasKey()) {
          log.accept("skipping " + message.getMessageId() + ": no key");
          continue;
        }
        byte[] value = message.getValue();
        if (value == null || value.length == 0) {
          table.remove(message.getKey());
          continue;
        }
        try {
          MerchantRisk row = MerchantRiskValidator.validate(MerchantRisk.parseFrom(value));
          if (row.getMerchantId().equals(message.getKey())) {
            table.put(message.getKey(), row);
          } else {
            log.accept(
                "skipping "
                    + message.getMessageId()
                    + ": keyed '"
                    + message.getKey()
                    + "' but its merchant_id is '"
                    + row.getMerchantId()
                    + "'");
          }
        } catch (InvalidProtocolBufferException e) {
          log.accept("skipping " + message.getMessageId() + ": not a MerchantRisk");
        } catch (InvalidRecordException e) {
          log.accept("skipping " + message.getMessageId() + ": " + e.getMessage());
        }
      }
    } catch (java.io.IOException e) {
      throw e instanceof PulsarClientException p ? p : new PulsarClientException(e);
    }
    return table;
  }
}
