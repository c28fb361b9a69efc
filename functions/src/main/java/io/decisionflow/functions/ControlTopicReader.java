package io.decisionflow.functions;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Reader;
import org.apache.pulsar.client.api.Schema;
import org.slf4j.Logger;

/**
 * Reads a compacted control or reference topic ({@code models}, {@code routing}, {@code merchants})
 * with a non-durable reader of its own, from the earliest record, so that every function instance
 * sees every record whatever the function's parallelism. Records are read as bytes and handed to a
 * parser that returns null for a record to skip (after logging why): a bad control record is never
 * fatal.
 *
 * @param <T> the parsed record
 */
final class ControlTopicReader<T> implements AutoCloseable {

  private static final long POLL_MS = 500;

  private final String topic;
  private final String logPrefix;
  private final String what;
  private final Logger log;
  private final Function<Message<byte[]>, T> parser;
  private final Reader<byte[]> reader;
  private volatile boolean closed;
  private Thread follower;

  /**
   * Opens the reader.
   *
   * @param logPrefix what log lines start with, e.g. {@code score champion}
   * @param what what a record is, for log lines and the follower thread, e.g. {@code model
   *     deployment}
   * @param parser the record, or null to skip it
   */
  ControlTopicReader(
      PulsarClient client,
      String topic,
      String readerName,
      String logPrefix,
      String what,
      Logger log,
      Function<Message<byte[]>, T> parser)
      throws PulsarClientException {
    this.topic = topic;
    this.logPrefix = logPrefix;
    this.what = what;
    this.log = log;
    this.parser = parser;
    this.reader =
        client
            .newReader(Schema.BYTES)
            .topic(topic)
            .startMessageId(MessageId.earliest)
            .readCompacted(true)
            .readerName(readerName)
            .create();
  }

  String topic() {
    return topic;
  }

  /** The records up to the end of the topic, oldest first, skipped ones left out. */
  List<T> readToEnd() throws PulsarClientException {
    List<T> records = new ArrayList<>();
    while (reader.hasMessageAvailable()) {
      Message<byte[]> message = reader.readNext(10, TimeUnit.SECONDS);
      if (message == null) {
        break;
      }
      T parsed = parser.apply(message);
      if (parsed != null) {
        records.add(parsed);
      }
    }
    return records;
  }

  /**
   * Calls {@code onRecord} with each record from now on, one at a time, on a daemon thread of its
   * own, so that handling a record (loading a model, say) never blocks the function's processing.
   */
  void follow(Consumer<T> onRecord, String threadName) {
    Objects.requireNonNull(onRecord, "onRecord");
    follower =
        new Thread(
            () -> {
              while (!closed) {
                try {
                  Message<byte[]> message = reader.readNext((int) POLL_MS, TimeUnit.MILLISECONDS);
                  T parsed = message == null ? null : parser.apply(message);
                  if (parsed != null) {
                    onRecord.accept(parsed);
                  }
                } catch (PulsarClientException e) {
                  if (!closed) {
                    log.warn("{}: reading {} failed, retrying: {}", logPrefix, topic, e.toString());
                    pause();
                  }
                } catch (RuntimeException e) {
                  log.error(logPrefix + ": handling a " + what + " failed", e);
                }
              }
            },
            threadName);
    follower.setDaemon(true);
    follower.start();
  }

  private void pause() {
    try {
      Thread.sleep(POLL_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops following (waiting up to 5 s for a record being handled) and closes the reader. */
  @Override
  public void close() {
    closed = true;
    if (follower != null) {
      follower.interrupt();
      try {
        follower.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    reader.closeAsync();
  }
}
