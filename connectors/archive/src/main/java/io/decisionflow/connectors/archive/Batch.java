package io.decisionflow.connectors.archive;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.apache.pulsar.functions.api.Record;

/**
 * The open batch of one topic partition: consecutive records of one hour, compressed as they
 * arrive. Not thread-safe (the {@link Archiver} guards it).
 */
final class Batch {

  private final String key;
  private final long hour;
  private final Instant openedAt;
  private final RecordPosition first;
  private RecordPosition last;
  private final List<Record<?>> records = new ArrayList<>();
  private final List<Record<?>> duplicates = new ArrayList<>();
  private final ByteArrayOutputStream compressed = new ByteArrayOutputStream(64 * 1024);
  private final GZIPOutputStream gzip;
  private long bytes;
  private boolean endsEntry = true;

  Batch(String key, long hour, Instant openedAt, RecordPosition first) {
    this.key = key;
    this.hour = hour;
    this.openedAt = openedAt;
    this.first = first;
    this.last = first;
    try {
      // No file name or time in the gzip header: a rewrite of the same records is byte-identical.
      this.gzip = new GZIPOutputStream(compressed, 64 * 1024);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void add(Record<?> record, RecordPosition position, byte[] line) {
    try {
      gzip.write(line);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    records.add(record);
    bytes += line.length;
    last = position;
    endsEntry = position.endsEntry();
  }

  /** Whether the batch holds the record at {@code position}. */
  boolean covers(RecordPosition position) {
    return first.compareTo(position) <= 0 && position.compareTo(last) <= 0;
  }

  /**
   * Another delivery of a record the batch holds: acknowledged or failed with the batch, not
   * written twice.
   */
  void addDuplicate(Record<?> record) {
    duplicates.add(record);
  }

  RecordPosition first() {
    return first;
  }

  String key() {
    return key;
  }

  long hour() {
    return hour;
  }

  int size() {
    return records.size();
  }

  long bytes() {
    return bytes;
  }

  /** Whether the last record is the last of its Pulsar entry (the batch may end here). */
  boolean endsEntry() {
    return endsEntry;
  }

  boolean isFull(BatchLimits limits) {
    return records.size() >= limits.maxRecords() || bytes >= limits.maxBytes();
  }

  boolean isOlderThan(Duration age, Instant now) {
    return !Duration.between(openedAt, now).minus(age).isNegative();
  }

  /** Closes the batch: the object to write, with the records it holds. */
  Sealed seal() {
    try {
      gzip.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Sealed(key, compressed.toByteArray(), records, duplicates, bytes, first, last);
  }

  /** Releases the compressor of a batch that will not be written. */
  void discard() {
    try {
      gzip.close();
    } catch (IOException e) {
      // nothing to release then
    }
  }

  /**
   * A closed batch: the object's key and body, the records to acknowledge once it is written (with
   * their later deliveries, {@link #addDuplicate}), and the positions it spans.
   */
  static final class Sealed {
    private final String key;
    private final byte[] body;
    private final List<Record<?>> records;
    private final List<Record<?>> duplicates;
    private final long uncompressedBytes;
    private final RecordPosition first;
    private final RecordPosition last;

    Sealed(
        String key,
        byte[] body,
        List<Record<?>> records,
        List<Record<?>> duplicates,
        long uncompressedBytes,
        RecordPosition first,
        RecordPosition last) {
      this.key = key;
      this.body = body;
      this.records = records;
      this.duplicates = new ArrayList<>(duplicates);
      this.uncompressedBytes = uncompressedBytes;
      this.first = first;
      this.last = last;
    }

    String key() {
      return key;
    }

    byte[] body() {
      return body;
    }

    List<Record<?>> records() {
      return records;
    }

    long uncompressedBytes() {
      return uncompressedBytes;
    }

    boolean covers(RecordPosition position) {
      return first.compareTo(position) <= 0 && position.compareTo(last) <= 0;
    }

    void addDuplicate(Record<?> record) {
      duplicates.add(record);
    }

    /** The records and their later deliveries: all to acknowledge, or all to fail. */
    List<Record<?>> everyDelivery() {
      List<Record<?>> all = new ArrayList<>(records);
      all.addAll(duplicates);
      return all;
    }

    /** What remains known of the batch once written or failed. */
    Span span(boolean written) {
      return new Span(first, last, written);
    }
  }

  /** The positions a batch spanned, and whether it was written (else it failed). */
  record Span(RecordPosition first, RecordPosition last, boolean written) {
    boolean covers(RecordPosition position) {
      return first.compareTo(position) <= 0 && position.compareTo(last) <= 0;
    }
  }
}
