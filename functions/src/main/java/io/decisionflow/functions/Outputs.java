package io.decisionflow.functions;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.ProducerBuilder;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.TypedMessageBuilder;
import org.apache.pulsar.functions.api.Context;

/**
 * The producers a function publishes its records with. Pulsar 4.0's runtime batches both what a
 * function returns and what it sends with {@code context.newOutputMessage} for a fixed 10 ms, and a
 * function config cannot change that (PIP-401 makes it configurable from Pulsar 4.1): in a chain of
 * five hops that is up to 50 ms of waiting. So a stage publishes through producers of its own, made
 * from the instance's client, batching for {@code outputBatchingDelayMicros} (1 ms by default; 0
 * sends each record alone). A negative delay uses the runtime's producers instead.
 *
 * <p>The producers never time a send out: a record is acknowledged only once its output is stored,
 * and a send that fails fails the record (which is retried or dead-lettered).
 */
final class Outputs implements AutoCloseable {

  private final Context context;
  private final long batchingDelayMicros;
  private final Map<String, Producer<?>> producers = new ConcurrentHashMap<>();

  /**
   * {@link #send} sends a record at once, without waiting to batch, while fewer than this many of
   * its sends are not yet stored by the broker: at a low rate a record need not wait for others,
   * and under load (many on their way) records batch for the delay.
   */
  static final int SEND_AT_ONCE_BELOW = 4;

  private final AtomicInteger unstored = new AtomicInteger();

  /**
   * @param batchingDelayMicros how long the producers wait to batch; negative: the runtime's
   */
  Outputs(Context context, long batchingDelayMicros) {
    this.context = context;
    this.batchingDelayMicros = batchingDelayMicros;
  }

  /**
   * The function config's output topic, which a stage publishing through its own producers must
   * name.
   *
   * @throws IllegalArgumentException if it names none, with {@code example} as what to set
   */
  String outputTopic(String stage, String example) {
    String topic = context.getOutputTopic();
    if (own() && (topic == null || topic.isBlank())) {
      throw new IllegalArgumentException(
          stage + " needs an output topic (the function config's output), e.g. " + example);
    }
    return topic;
  }

  /** Whether records go through producers of the stage's own (else the runtime's). */
  boolean own() {
    return batchingDelayMicros >= 0;
  }

  /** The stage's own producer of {@code topic}, made at its first use. */
  @SuppressWarnings("unchecked")
  private <T> Producer<T> producer(String topic, Schema<T> schema) throws PulsarClientException {
    Producer<T> producer = (Producer<T>) producers.get(topic);
    if (producer == null) {
      synchronized (producers) {
        producer = (Producer<T>) producers.get(topic);
        if (producer == null) {
          producer = create(topic, schema);
          producers.put(topic, producer);
        }
      }
    }
    return producer;
  }

  /**
   * Sends {@code value} to {@code topic} keyed by {@code key}, with {@code eventTimeMs} as its
   * event time when positive; a producer that cannot be created fails the future, never throws.
   */
  <T> CompletableFuture<MessageId> send(
      String topic, Schema<T> schema, String key, T value, long eventTimeMs) {
    try {
      Producer<T> producer = own() ? producer(topic, schema) : null;
      TypedMessageBuilder<T> message =
          producer == null ? context.newOutputMessage(topic, schema) : producer.newMessage();
      message.key(key).value(value);
      if (eventTimeMs > 0) {
        message.eventTime(eventTimeMs);
      }
      if (producer == null || batchingDelayMicros == 0) {
        return message.sendAsync();
      }
      int ahead = unstored.getAndIncrement();
      CompletableFuture<MessageId> sent = message.sendAsync();
      sent.whenComplete((id, failure) -> unstored.decrementAndGet());
      if (ahead < SEND_AT_ONCE_BELOW) {
        producer.flushAsync(); // little on its way: this record need not wait
      }
      return sent;
    } catch (PulsarClientException | RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private <T> Producer<T> create(String topic, Schema<T> schema) throws PulsarClientException {
    return batching(context.getPulsarClient().newProducer(schema), batchingDelayMicros)
        .topic(topic)
        .blockIfQueueFull(true)
        .sendTimeout(0, TimeUnit.SECONDS)
        .create();
  }

  /**
   * A producer that batches for {@code delayMicros} (at least 1 ms, as Pulsar requires), or sends
   * each record alone when it is 0.
   */
  static <T> ProducerBuilder<T> batching(ProducerBuilder<T> builder, long delayMicros) {
    if (delayMicros <= 0) {
      return builder.enableBatching(false);
    }
    return builder.enableBatching(true).batchingMaxPublishDelay(delayMicros, TimeUnit.MICROSECONDS);
  }

  /** Closes the producers (flushing what they hold). */
  @Override
  public void close() {
    for (Producer<?> producer : producers.values()) {
      try {
        producer.close();
      } catch (PulsarClientException e) {
        context
            .getLogger()
            .warn("closing the producer of {}: {}", producer.getTopic(), e.toString());
      }
    }
    producers.clear();
  }
}
