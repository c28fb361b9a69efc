package io.decisionflow.schemas;

import java.util.regex.Pattern;

/**
 * A Pulsar namespace of a business unit, e.g. {@code payments/fraud}. Every topic of a pipeline
 * lives in one such namespace.
 */
public record BusinessNamespace(String tenant, String namespace) {

  private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]*");

  public BusinessNamespace {
    requireName("tenant", tenant);
    requireName("namespace", namespace);
  }

  /** Parses {@code tenant/namespace}. */
  public static BusinessNamespace parse(String qualified) {
    String[] parts = qualified == null ? new String[0] : qualified.split("/", -1);
    if (parts.length != 2) {
      throw new IllegalArgumentException(
          "namespace must look like <tenant>/<namespace>, was '" + qualified + "'");
    }
    return new BusinessNamespace(parts[0], parts[1]);
  }

  /** The fully qualified, persistent topic name {@code persistent://tenant/namespace/name}. */
  public String topic(String name) {
    requireName("topic", name);
    return "persistent://" + tenant + "/" + namespace + "/" + name;
  }

  @Override
  public String toString() {
    return tenant + "/" + namespace;
  }

  private static void requireName(String field, String value) {
    if (value == null || !NAME.matcher(value).matches()) {
      throw new IllegalArgumentException(
          field
              + " must be letters, digits, '_', '-' or '.', starting with a letter or digit, was '"
              + value
              + "'");
    }
  }
}
