package io.decisionflow.functions;

import com.google.protobuf.ByteString;
import io.decisionflow.metrics.StageMetrics;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.DeadLetter;
import io.decisionflow.schemas.Topics;
import io.decisionflow.stages.InvalidRecordException;
import java.util.concurrent.CompletableFuture;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.functions.api.Context;
import org.apache.pulsar.functions.api.Record;

/**
 * Sends records a stage cannot process to the business unit's {@code dead-letters} topic, as a
 * {@link DeadLetter} that keeps the original bytes and says why: at once for a record that can
 * never succeed, after the last attempt for one that kept failing ({@link Retries}).
 */
final class DeadLetters {

  private final Context context;
  private final StageMetrics metrics;
  private final String stage;
  private final String topic;

  /** Dead letters of the stage {@code metrics} counts, which it counts by reason. */
  DeadLetters(Context context, StageMetrics metrics) {
    this.context = context;
    this.metrics = metrics;
    this.stage = metrics.stage();
    this.topic =
        Topics.DEAD_LETTERS.in(new BusinessNamespace(context.getTenant(), context.getNamespace()));
  }

  /**
   * Dead-letters the current record, which can never succeed; the future completes once the dead
   * letter is stored.
   */
  CompletableFuture<MessageId> send(byte[] original, InvalidRecordException error) {
    Record<?> record = context.getCurrentRecord();
    metrics.invalid(error.field());
    return send(
        record,
        original,
        error.getMessage(),
        error.field(),
        error.value(),
        error.getClass().getName(),
        Retries.attempt(record));
  }

  /**
   * Dead-letters {@code record} after its last attempt failed with {@code failure}.
   *
   * @param attempts how many times it was tried
   */
  CompletableFuture<MessageId> gaveUp(
      Record<?> record, byte[] original, Throwable failure, int attempts) {
    Throwable cause = Retries.rootCause(failure);
    metrics.gaveUp(cause);
    return send(
        record,
        original,
        stage + " failed " + attempts + " times, last: " + cause,
        "",
        "",
        cause.getClass().getName(),
        attempts);
  }

  /** The metrics of the stage. */
  StageMetrics metrics() {
    return metrics;
  }

  private CompletableFuture<MessageId> send(
      Record<?> record,
      byte[] original,
      String reason,
      String field,
      String value,
      String errorClass,
      int attempts) {
    DeadLetter.Builder letter =
        DeadLetter.newBuilder()
            .setStage(stage)
            .setReason(reason)
            .setField(field)
            .setValue(value)
            .setErrorClass(errorClass)
            .setOriginal(ByteString.copyFrom(original))
            .setAttempts(attempts)
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
    context.getLogger().warn("{}: dead-lettering record {} to {}: {}", stage, key, topic, reason);
    try {
      return context
          .newOutputMessage(topic, Topics.DEAD_LETTERS.schema())
          .key(key)
          .value(letter.build())
          .sendAsync();
    } catch (org.apache.pulsar.client.api.PulsarClientException | RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }
}
