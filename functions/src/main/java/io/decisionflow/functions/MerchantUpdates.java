package io.decisionflow.functions;

import com.google.protobuf.InvalidProtocolBufferException;
import io.decisionflow.schemas.reference.MerchantRisk;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.enrich.MerchantRiskValidator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.slf4j.Logger;

/**
 * Follows a business unit's merchant reference table on its compacted {@code merchants} topic
 * ({@link ControlTopicReader}): every enrich instance reads the whole table, whatever the
 * function's parallelism.
 *
 * <p>A record with an empty value (a tombstone) deletes its key's merchant. A record that cannot
 * enter the table is logged at WARN, naming the field and the value, counted, and skipped: one
 * without a key, one that is not a {@link MerchantRisk}, one whose merchant id is empty or differs
 * from its key, one whose risk is outside [0, 1] or NaN.
 */
final class MerchantUpdates implements EnrichFunction.MerchantSource {

  private final Logger log;
  private final ControlTopicReader<MerchantUpdate> reader;
  private final AtomicLong ignored = new AtomicLong();

  /** Opens a reader on {@code topic} from its earliest (compacted) record. */
  MerchantUpdates(PulsarClient client, String topic, String readerName, Logger log)
      throws PulsarClientException {
    this.log = log;
    this.reader =
        new ControlTopicReader<>(
            client, topic, readerName, "enrich", "merchant update", log, this::parse);
  }

  @Override
  public List<MerchantUpdate> loaded() throws PulsarClientException {
    return reader.readToEnd();
  }

  @Override
  public void follow(Consumer<MerchantUpdate> onUpdate) {
    reader.follow(onUpdate, "enrich-merchants");
  }

  @Override
  public long ignored() {
    return ignored.get();
  }

  private MerchantUpdate parse(Message<byte[]> message) {
    try {
      return parse(message.hasKey() ? message.getKey() : null, message.getValue());
    } catch (InvalidRecordException e) {
      ignored.incrementAndGet();
      log.warn(
          "enrich: ignoring merchant record {} on {} keyed {}: {}",
          message.getMessageId(),
          reader.topic(),
          message.hasKey() ? "'" + message.getKey() + "'" : "<none>",
          e.getMessage());
      return null;
    }
  }

  /**
   * The update a record of the {@code merchants} topic makes.
   *
   * @param key the record's key, null if it has none
   * @param value the record's value, null or empty for a tombstone
   * @throws InvalidRecordException naming the field at fault and its value
   */
  static MerchantUpdate parse(String key, byte[] value) {
    if (key == null || key.isBlank()) {
      throw new InvalidRecordException(
          "key", key, "is required: merchants records are keyed by merchant id");
    }
    if (value == null || value.length == 0) {
      return MerchantUpdate.delete(key);
    }
    MerchantRisk row;
    try {
      row = MerchantRisk.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidRecordException(
          "record", value.length + " bytes", "is not a MerchantRisk: " + e.getMessage(), e);
    }
    MerchantRiskValidator.validate(row);
    if (!key.equals(row.getMerchantId())) {
      throw new InvalidRecordException(
          "merchant_id", row.getMerchantId(), "must equal the record's key '" + key + "'");
    }
    return new MerchantUpdate(key, row);
  }

  @Override
  public void close() {
    reader.close();
  }
}
