package io.decisionflow.connectors.archive;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import org.apache.pulsar.client.api.MessageId;

/**
 * Where a message is in its topic partition: ledger, entry, and index in the entry's batch (a
 * producer batches messages into one entry; -1 when the entry holds one message that was not
 * batched). Positions of one partition grow in the order the messages were published.
 *
 * @param batchSize messages in the entry's batch; 0 when not batched
 */
public record RecordPosition(long ledgerId, long entryId, int batchIndex, int batchSize)
    implements Comparable<RecordPosition> {

  public RecordPosition {
    if (ledgerId < 0 || entryId < 0) {
      throw new IllegalArgumentException(
          "a record's position needs a ledger id and an entry id >= 0, was "
              + ledgerId
              + ":"
              + entryId);
    }
  }

  /**
   * The position of a message id as a Pulsar consumer hands it out, read from its serialized form
   * ({@link MessageId#toByteArray()}: Pulsar's {@code MessageIdData}, fields ledgerId = 1, entryId
   * = 2, batch_index = 4, batch_size = 6), the one view of a message id that the API gives a
   * connector: the implementation classes ({@code MessageIdAdv}) belong to the instance's class
   * loader, not to the connector's.
   */
  public static RecordPosition of(MessageId id) {
    if (id == null) {
      throw new IllegalArgumentException("a record without a message id cannot be archived");
    }
    long ledgerId = -1;
    long entryId = -1;
    int batchIndex = -1;
    int batchSize = 0;
    try {
      CodedInputStream in = CodedInputStream.newInstance(id.toByteArray());
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        int field = WireFormat.getTagFieldNumber(tag);
        boolean varint = WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT;
        if (field == 1 && varint) {
          ledgerId = in.readUInt64();
        } else if (field == 2 && varint) {
          entryId = in.readUInt64();
        } else if (field == 4 && varint) {
          batchIndex = in.readInt32();
        } else if (field == 6 && varint) {
          batchSize = in.readInt32();
        } else {
          in.skipField(tag);
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("message id " + id + " does not parse: " + e, e);
    }
    if (ledgerId < 0 || entryId < 0) {
      throw new IllegalArgumentException(
          "message id " + id + " carries no ledger and entry id; it cannot name an object");
    }
    return new RecordPosition(ledgerId, entryId, batchIndex, batchSize);
  }

  /**
   * Whether no message of the same entry follows this one. A batch of the archive only ends at such
   * a message (except at an hour change), so that one Pulsar entry is never split between two
   * objects: Pulsar acknowledges and redelivers whole entries.
   */
  public boolean endsEntry() {
    return batchIndex < 0 || batchSize <= 0 || batchIndex >= batchSize - 1;
  }

  /**
   * The position as it appears in object names: {@code <ledger>-<entry>-<batch index>}, zero-padded
   * (19, 19 and 10 digits) so that names sort in position order; batch index 0 when not batched.
   */
  public String padded() {
    return String.format("%019d-%019d-%010d", ledgerId, entryId, Math.max(batchIndex, 0));
  }

  @Override
  public int compareTo(RecordPosition o) {
    int c = Long.compare(ledgerId, o.ledgerId);
    if (c == 0) {
      c = Long.compare(entryId, o.entryId);
    }
    return c != 0 ? c : Integer.compare(batchIndex, o.batchIndex);
  }

  @Override
  public String toString() {
    return ledgerId + ":" + entryId + ":" + batchIndex;
  }
}
