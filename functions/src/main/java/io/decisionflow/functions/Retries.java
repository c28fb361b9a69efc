package io.decisionflow.functions;

import io.decisionflow.stages.RetryPolicy;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.functions.api.Context;
import org.apache.pulsar.functions.api.Record;

/**
 * Retries of records whose processing failed for a reason that may pass. Instead of failing the
 * record (Pulsar would deliver it again only after the consumer's negative-acknowledgement delay,
 * 60 s, which a function config cannot change, and would count attempts in the broker's memory
 * only), the stage publishes a copy of it (same bytes, key and properties) back to the topic it
 * came from, delayed by the {@link RetryPolicy}'s wait, with its attempt number in the property
 * {@value #ATTEMPT}; once the copy is stored the original is acknowledged. After the last attempt
 * the record becomes a dead letter with the number of attempts and the cause.
 */
final class Retries {

  /** Message property holding the attempt number of a retried copy (absent: 1). */
  static final String ATTEMPT = "decisionflow.attempt";

  private final Context context;
  private final String stage;
  private final DeadLetters deadLetters;
  private final RetryPolicy policy;

  Retries(Context context, String stage, DeadLetters deadLetters, RetryPolicy policy) {
    this.context = context;
    this.stage = stage;
    this.deadLetters = deadLetters;
    this.policy = policy;
  }

  /** The attempt number of {@code record}: 1, or what its {@value #ATTEMPT} property says. */
  static int attempt(Record<?> record) {
    if (record == null || record.getProperties() == null) {
      return 1;
    }
    String value = record.getProperties().get(ATTEMPT);
    if (value == null) {
      return 1;
    }
    try {
      return Math.max(1, Integer.parseInt(value.trim()));
    } catch (NumberFormatException e) {
      return 1;
    }
  }

  /**
   * After {@code record} failed with {@code failure}: a delayed copy for its next attempt, or,
   * after the last one, a dead letter. The future completes once that is stored; the caller then
   * acknowledges the record (and fails it if the future fails, as a last resort).
   */
  CompletableFuture<Void> afterFailure(Record<?> record, byte[] original, Throwable failure) {
    int attempt = attempt(record);
    RetryPolicy.Next next = policy.after(attempt);
    String key = record.getKey().orElse("");
    if (!next.retry()) {
      return deadLetters.gaveUp(record, original, failure, attempt).thenApply(id -> null);
    }
    String topic = record.getTopicName().orElse(null);
    if (topic == null) {
      return CompletableFuture.failedFuture(failure);
    }
    deadLetters.metrics().retried();
    context
        .getLogger()
        .warn(
            "{}: record {} failed (attempt {} of {}), retrying in {} ms: {}",
            stage,
            key,
            attempt,
            policy.maxAttempts(),
            next.delayMs(),
            rootCause(failure).toString());
    Map<String, String> properties = new LinkedHashMap<>();
    if (record.getProperties() != null) {
      properties.putAll(record.getProperties());
    }
    properties.put(ATTEMPT, Integer.toString(attempt + 1));
    try {
      var copy =
          context.newOutputMessage(topic, Schema.BYTES).properties(properties).value(original);
      if (!key.isEmpty()) {
        copy.key(key);
      }
      if (next.delayMs() > 0) {
        copy.deliverAfter(next.delayMs(), TimeUnit.MILLISECONDS);
      }
      return copy.sendAsync().thenApply(id -> null);
    } catch (PulsarClientException | RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * The innermost cause: past the wrappers of futures, and of the runtime (e.g. "Unable to create
   * producer" around the client's TopicDoesNotExistException).
   */
  static Throwable rootCause(Throwable failure) {
    Throwable t = failure;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }
}
