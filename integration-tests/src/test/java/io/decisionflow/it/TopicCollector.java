package io.decisionflow.it;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;

/**
 * Receives every record of some topics, from the earliest, into sinks on daemon threads (one a
 * topic, each on a subscription of its own), until closed.
 */
final class TopicCollector implements AutoCloseable {

  private final PulsarClient client;
  private final List<Consumer<?>> consumers = new CopyOnWriteArrayList<>();
  private volatile boolean receiving = true;

  TopicCollector(PulsarClient client) {
    this.client = client;
  }

  /** Hands each record of {@code topic} to {@code sink}, then acknowledges it. */
  <T> void collect(String topic, Schema<T> schema, java.util.function.Consumer<T> sink)
      throws PulsarClientException {
    collectMessages(topic, schema, message -> sink.accept(message.getValue()));
  }

  /**
   * Hands each message of {@code topic} (with its properties, e.g. the cluster it was replicated
   * from) to {@code sink}, then acknowledges it.
   */
  <T> void collectMessages(
      String topic, Schema<T> schema, java.util.function.Consumer<Message<T>> sink)
      throws PulsarClientException {
    Consumer<T> consumer =
        client
            .newConsumer(schema)
            .topic(topic)
            .subscriptionName("it-" + UUID.randomUUID())
            .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
            .subscribe();
    consumers.add(consumer);
    Thread thread =
        new Thread(
            () -> {
              while (receiving) {
                try {
                  Message<T> message = consumer.receive(100, MILLISECONDS);
                  if (message != null) {
                    sink.accept(message);
                    consumer.acknowledge(message);
                  }
                } catch (PulsarClientException e) {
                  if (receiving) {
                    System.err.println("receive on " + topic + " failed: " + e.getMessage());
                  }
                }
              }
            },
            "collect-" + topic);
    thread.setDaemon(true);
    thread.start();
  }

  /** Stops receiving and closes the consumers. */
  @Override
  public void close() {
    receiving = false;
    for (Consumer<?> consumer : consumers) {
      consumer.closeAsync();
    }
  }
}
