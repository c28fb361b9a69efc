package io.decisionflow.connectors.archive;

import io.decisionflow.schemas.Decision;
import java.lang.reflect.Proxy;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.impl.BatchMessageIdImpl;
import org.apache.pulsar.client.impl.MessageIdImpl;
import org.apache.pulsar.functions.api.Record;

/**
 * A record as the sink runtime hands it over: topic partition, a real message id, publish time, the
 * decision; counts its acknowledgements and failures.
 */
final class FakeRecord implements Record<Decision> {

  private final String topic;
  private final MessageId id;
  private final long publishTime;
  private final Decision value;
  final AtomicInteger acks = new AtomicInteger();
  final AtomicInteger fails = new AtomicInteger();

  FakeRecord(String topic, MessageId id, long publishTime, Decision value) {
    this.topic = topic;
    this.id = id;
    this.publishTime = publishTime;
    this.value = value;
  }

  /** A message that was not batched by its producer: alone in entry {@code entry}. */
  static MessageId single(long ledger, long entry) {
    return new MessageIdImpl(ledger, entry, -1);
  }

  /** Message {@code index} of a producer batch of {@code size} in entry {@code entry}. */
  static MessageId batched(long ledger, long entry, int index, int size) {
    return new BatchMessageIdImpl(ledger, entry, -1, index, size, null);
  }

  /** The same message delivered again (a new record object, counters at zero). */
  FakeRecord redelivered() {
    return new FakeRecord(topic, id, publishTime, value);
  }

  @Override
  public Decision getValue() {
    return value;
  }

  @Override
  public Optional<String> getTopicName() {
    return Optional.of(topic);
  }

  @Override
  @SuppressWarnings("unchecked")
  public Optional<Message<Decision>> getMessage() {
    Message<Decision> message =
        (Message<Decision>)
            Proxy.newProxyInstance(
                Message.class.getClassLoader(),
                new Class<?>[] {Message.class},
                (proxy, method, args) ->
                    switch (method.getName()) {
                      case "getMessageId" -> id;
                      case "getPublishTime" -> publishTime;
                      case "getValue" -> value;
                      case "getTopicName" -> topic;
                      case "toString" -> "message " + id + " of " + topic;
                      default ->
                          throw new UnsupportedOperationException(
                              "FakeRecord's message has no " + method.getName());
                    });
    return Optional.of(message);
  }

  @Override
  public void ack() {
    acks.incrementAndGet();
  }

  @Override
  public void fail() {
    fails.incrementAndGet();
  }

  boolean acked() {
    return acks.get() == 1 && fails.get() == 0;
  }

  boolean failed() {
    return fails.get() == 1 && acks.get() == 0;
  }

  boolean untouched() {
    return acks.get() == 0 && fails.get() == 0;
  }
}
