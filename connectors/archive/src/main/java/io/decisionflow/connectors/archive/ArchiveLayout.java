package io.decisionflow.connectors.archive;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * Names of the archive's objects:
 *
 * <pre>
 * &lt;prefix&gt;/tenant=&lt;tenant&gt;/namespace=&lt;namespace&gt;/date=YYYY-MM-DD/hour=HH/
 *     &lt;topic&gt;-&lt;ledger&gt;-&lt;entry&gt;-&lt;batch index&gt;.jsonl.gz
 * </pre>
 *
 * where {@code <topic>} is the local name of the topic partition the records were read from (e.g.
 * {@code decisions-partition-3}, or {@code decisions} if not partitioned), the position is that of
 * the object's first record, zero-padded so that the objects of a partition sort in the order of
 * their records ({@link RecordPosition#padded()}), and date and hour are UTC of the records'
 * decision time. One object holds records of one topic partition and one hour only.
 */
public final class ArchiveLayout {

  /** gzip-compressed JSON lines, one decision a line. */
  public static final String SUFFIX = ".jsonl.gz";

  private static final long HOUR_MS = 3_600_000L;

  private final String prefix;

  /** The layout under {@code prefix} (no leading or trailing {@code /}; may be empty). */
  public ArchiveLayout(String prefix) {
    this.prefix = prefix == null || prefix.isEmpty() ? "" : prefix + "/";
  }

  /**
   * The key of the object whose first record is at {@code first} in {@code topic}, of the hour
   * {@code hour} ({@link #hourOf(long)}).
   */
  public String key(String topic, long hour, RecordPosition first) {
    TopicPath path = TopicPath.parse(topic);
    LocalDateTime start =
        LocalDateTime.ofInstant(Instant.ofEpochMilli(hour * HOUR_MS), ZoneOffset.UTC);
    return String.format(
        "%stenant=%s/namespace=%s/date=%s/hour=%02d/%s-%s%s",
        prefix,
        path.tenant(),
        path.namespace(),
        start.toLocalDate(),
        start.getHour(),
        path.localName(),
        first.padded(),
        SUFFIX);
  }

  /** The hour (hours since the epoch, UTC) of a time in epoch milliseconds. */
  public static long hourOf(long epochMs) {
    return Math.floorDiv(epochMs, HOUR_MS);
  }

  /** Tenant, namespace and local name of a topic. */
  record TopicPath(String tenant, String namespace, String localName) {

    /**
     * Parses {@code persistent://tenant/namespace/name} (or {@code non-persistent://…}), {@code
     * tenant/namespace/name}, or a bare {@code name} (in {@code public/default}), as Pulsar does.
     */
    static TopicPath parse(String topic) {
      if (topic == null || topic.isBlank()) {
        throw new IllegalArgumentException("a record without a topic name cannot be archived");
      }
      String rest = topic;
      int scheme = rest.indexOf("://");
      if (scheme >= 0) {
        rest = rest.substring(scheme + 3);
      }
      String[] parts = rest.split("/", -1);
      if (parts.length == 1 && scheme < 0) {
        return checked(topic, "public", "default", parts[0]);
      }
      if (parts.length != 3) {
        throw new IllegalArgumentException(
            "topic name must be [persistent://]tenant/namespace/topic, was " + topic);
      }
      return checked(topic, parts[0], parts[1], parts[2]);
    }

    private static TopicPath checked(String topic, String tenant, String namespace, String name) {
      if (tenant.isEmpty() || namespace.isEmpty() || name.isEmpty()) {
        throw new IllegalArgumentException(
            "topic name must be [persistent://]tenant/namespace/topic, was " + topic);
      }
      return new TopicPath(tenant, namespace, name);
    }
  }
}
