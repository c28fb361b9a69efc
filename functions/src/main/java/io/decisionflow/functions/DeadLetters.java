package io.decisionflow.functions;

import com.google.protobuf.ByteString;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.DeadLetter;
import io.decisionflow.schemas.Topics;
import io.decisionflow.stages.InvalidRecordException;
import java.util.concurrent.CompletableFuture;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.functions.api.Context;
import org.apache.pulsar.functions.api.Record;

/**
 * Sends records a stage can never process to the business unit's {@code dead-letters} topic, as a
 * {@link DeadLetter} that keeps the original bytes and says why.
 */
final class DeadLetters {

  private final Context context;
  private final String stage;
  private final String topic;

  DeadLetters(Context context, String stage) {
    this.context = context;
    this.stage = stage;
    this.topic =
        Topics.DEAD_LETTERS.in(new BusinessNamespace(context.getTenant(), context.getNamespace()));
  }

  /** Dead-letters the current record; the future completes once the dead letter is stored. */
  CompletableFuture<MessageId> send(byte[] original, InvalidRecordException error) {
    Record<?> record = context.getCurrentRecord();
    DeadLetter.Builder letter =
        DeadLetter.newBuilder()
            .setStage(stage)
            .setReason(error.getMessage())
            .setField(error.field())
            .setValue(error.value())
            .setErrorClass(error.getClass().getName())
            .setOriginal(ByteString.copyFrom(original))
            .setAttempts(1)
            .setTimeMs(System.currentTimeMillis());
    String key = "";
    if (record != null) {
      record.getTopicName().ifPresent(letter::setSourceTopic);
      record.getMessage().ifPresent(m -> letter.setSourceMessageId(m.getMessageId().toString()));
      key = record.getKey().orElse("");
      letter.setKey(key);
      if (record.getProperties() != null) {
        letter.putAllProperties(record.getProperties());
      }
    }
    context
        .getLogger()
        .warn("{}: dead-lettering record {} to {}: {}", stage, key, topic, error.getMessage());
    try {
      return context
          .newOutputMessage(topic, Topics.DEAD_LETTERS.schema())
          .key(key)
          .value(letter.build())
          .sendAsync();
    } catch (org.apache.pulsar.client.api.PulsarClientException e) {
      return CompletableFuture.failedFuture(e);
    }
  }
}
