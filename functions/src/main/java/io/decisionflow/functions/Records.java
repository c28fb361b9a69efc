package io.decisionflow.functions;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Parser;
import io.decisionflow.stages.InvalidRecordException;

/**
 * Parses a function's raw input. Every stage reads its input topic as bytes and parses here: a
 * record that does not parse (a producer without the schema, a corrupt payload) becomes a dead
 * letter with its reason, where a typed input would fail the instance and restart it on the same
 * record forever.
 */
final class Records {

  private Records() {}

  /**
   * @throws InvalidRecordException naming the field {@code record} if the bytes are not a {@code
   *     type}
   */
  static <T> T parse(byte[] input, Parser<T> parser, String type) {
    try {
      return parser.parseFrom(input);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidRecordException(
          "record", input.length + " bytes", "is not a " + type + ": " + e.getMessage(), e);
    }
  }
}
