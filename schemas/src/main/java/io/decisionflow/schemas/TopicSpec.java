package io.decisionflow.schemas;

import com.google.protobuf.GeneratedMessageV3;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pulsar.client.api.Schema;

/**
 * A topic of a business unit's namespace and the Protobuf record it carries.
 *
 * @param name the short topic name, e.g. {@code decisions}
 * @param type the generated Protobuf class of its records
 */
public record TopicSpec<T extends GeneratedMessageV3>(String name, Class<T> type) {

  private static final Map<Class<?>, Schema<?>> SCHEMAS = new ConcurrentHashMap<>();

  public TopicSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
  }

  /**
   * The schema every producer and consumer of this topic uses: Pulsar's PROTOBUF_NATIVE. Built once
   * per record type (building one parses the type's descriptors).
   */
  @SuppressWarnings("unchecked")
  public Schema<T> schema() {
    return (Schema<T>) SCHEMAS.computeIfAbsent(type, t -> Schema.PROTOBUF_NATIVE(type));
  }

  /** The fully qualified topic name inside {@code namespace}. */
  public String in(BusinessNamespace namespace) {
    return namespace.topic(name);
  }
}
