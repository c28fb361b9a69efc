package io.decisionflow.connectors.archive;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.MessageOrBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.List;

/**
 * One Protobuf message as one line of JSON: an object with every field of the message, named as in
 * the {@code .proto} file, in field-number order, default values included, so that every row has
 * every column. Values follow the proto3 JSON mapping ({@code JsonFormat} parses the rows back),
 * except that 64-bit integers are JSON numbers rather than strings: readers that infer or declare
 * column types (Spark, DuckDB, Trino) then read the {@code *_ms} timestamps as integers. A field
 * with presence that is not set (a message field, a proto3 {@code optional}) is {@code null}.
 * Well-known types (Timestamp, Duration, wrappers) are written as plain messages.
 */
public final class JsonLines {

  private static final JsonFactory JSON = new JsonFactory();

  private JsonLines() {}

  /** {@code message} as one line of UTF-8 JSON, ending with {@code '\n'}. */
  public static byte[] line(MessageOrBuilder message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    try (JsonGenerator json = JSON.createGenerator(out)) {
      object(json, message);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot render " + message.getDescriptorForType(), e);
    }
    out.write('\n');
    return out.toByteArray();
  }

  private static void object(JsonGenerator json, MessageOrBuilder message) throws IOException {
    json.writeStartObject();
    for (FieldDescriptor field : message.getDescriptorForType().getFields()) {
      json.writeFieldName(field.getName());
      if (field.isMapField()) {
        map(json, field, (List<?>) message.getField(field));
      } else if (field.isRepeated()) {
        json.writeStartArray();
        for (Object value : (List<?>) message.getField(field)) {
          value(json, field, value);
        }
        json.writeEndArray();
      } else if (field.hasPresence() && !message.hasField(field)) {
        json.writeNull();
      } else {
        value(json, field, message.getField(field));
      }
    }
    json.writeEndObject();
  }

  private static void map(JsonGenerator json, FieldDescriptor field, List<?> entries)
      throws IOException {
    FieldDescriptor key = field.getMessageType().findFieldByName("key");
    FieldDescriptor value = field.getMessageType().findFieldByName("value");
    json.writeStartObject();
    for (Object entry : entries) {
      MessageOrBuilder e = (MessageOrBuilder) entry;
      json.writeFieldName(String.valueOf(e.getField(key)));
      value(json, value, e.getField(value));
    }
    json.writeEndObject();
  }

  private static void value(JsonGenerator json, FieldDescriptor field, Object value)
      throws IOException {
    switch (field.getJavaType()) {
      case STRING -> json.writeString((String) value);
      case BOOLEAN -> json.writeBoolean((Boolean) value);
      case INT -> {
        if (isUnsigned(field)) {
          json.writeNumber(Integer.toUnsignedLong((Integer) value));
        } else {
          json.writeNumber((Integer) value);
        }
      }
      case LONG -> {
        if (isUnsigned(field)) {
          json.writeNumber(Long.toUnsignedString((Long) value));
        } else {
          json.writeNumber((Long) value);
        }
      }
      case DOUBLE -> number(json, (Double) value);
      case FLOAT -> number(json, ((Float) value).doubleValue());
      case BYTE_STRING ->
          json.writeString(Base64.getEncoder().encodeToString(((ByteString) value).toByteArray()));
      case ENUM -> {
        EnumValueDescriptor e = (EnumValueDescriptor) value;
        if (e.getIndex() < 0) {
          json.writeNumber(e.getNumber());
        } else {
          json.writeString(e.getName());
        }
      }
      case MESSAGE -> object(json, (MessageOrBuilder) value);
    }
  }

  /** Finite numbers as numbers; NaN and the infinities as the strings the proto3 mapping uses. */
  private static void number(JsonGenerator json, double value) throws IOException {
    if (Double.isNaN(value)) {
      json.writeString("NaN");
    } else if (Double.isInfinite(value)) {
      json.writeString(value > 0 ? "Infinity" : "-Infinity");
    } else {
      json.writeNumber(value);
    }
  }

  private static boolean isUnsigned(FieldDescriptor field) {
    return switch (field.getType()) {
      case UINT32, FIXED32, UINT64, FIXED64 -> true;
      default -> false;
    };
  }
}
