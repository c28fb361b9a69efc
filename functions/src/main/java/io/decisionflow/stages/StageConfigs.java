package io.decisionflow.stages;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads a typed stage configuration from a function's user-config map (as {@code --user-config}
 * JSON or a function-config YAML delivers it: numbers may arrive as strings) and validates it.
 */
public final class StageConfigs {

  /** A configuration that can check itself; {@link #validate()} throws {@link ConfigException}. */
  public interface Validated {
    void validate();
  }

  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY);

  private StageConfigs() {}

  /**
   * Binds {@code userConfig} to {@code type} and validates it. Keys starting with {@code _} are
   * deployment metadata (e.g. the checksum of the deployed code) and are not settings; the retry
   * settings every stage takes ({@link RetryPolicy}) are checked here and left out of {@code type}.
   */
  public static <T extends Validated> T load(Map<String, Object> userConfig, Class<T> type) {
    Map<String, Object> settings = new LinkedHashMap<>();
    if (userConfig != null) {
      userConfig.forEach(
          (key, value) -> {
            if (!key.startsWith("_")
                && !key.equals(RetryPolicy.MAX_ATTEMPTS)
                && !key.equals(RetryPolicy.RETRY_DELAY_MS)) {
              settings.put(key, value);
            }
          });
    }
    // Every stage takes the retry settings; checked here so that a bad one fails at deploy.
    RetryPolicy.load(userConfig);
    T config;
    try {
      config = MAPPER.convertValue(settings, type);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(describe(e.getCause() == null ? e : e.getCause(), type), e);
    }
    config.validate();
    return config;
  }

  /** The shortest delay a Pulsar producer batches for: 1 ms. */
  public static final long MIN_BATCHING_DELAY_MICROS = 1_000;

  /**
   * Checks a stage's {@code outputBatchingDelayMicros}: 0 (no batching), a delay in [1000, 1000000]
   * microseconds (Pulsar's producers refuse a shorter one), or, when {@code runtimeProducers}, -1
   * (the function runtime's producers).
   */
  public static void requireOutputBatchingDelay(long micros, boolean runtimeProducers) {
    boolean own = micros == 0 || (micros >= MIN_BATCHING_DELAY_MICROS && micros <= 1_000_000);
    ConfigException.require(
        own || (runtimeProducers && micros == -1),
        "outputBatchingDelayMicros",
        micros,
        "must be 0 (each record sent alone) or in [1000, 1000000] (a Pulsar producer batches for"
            + " at least 1 ms)"
            + (runtimeProducers ? ", or -1 for the function runtime's producers" : ""));
  }

  private static String describe(Throwable cause, Class<?> type) {
    if (cause instanceof UnrecognizedPropertyException u) {
      String known =
          u.getKnownPropertyIds().stream()
              .map(String::valueOf)
              .sorted()
              .collect(Collectors.joining(", "));
      // The path, not just the property name: a typo inside a nested setting (e.g. an arm of a
      // list) must point at that setting, and the known settings are those of its class.
      String at = u.getPath().isEmpty() ? u.getPropertyName() : path(u);
      Class<?> owner = u.getReferringClass() == null ? type : u.getReferringClass();
      return "userConfig."
          + at
          + ": unknown setting for "
          + owner.getSimpleName()
          + "; known settings are "
          + known;
    }
    if (cause instanceof InvalidFormatException f) {
      return "userConfig."
          + path(f)
          + ": expected "
          + f.getTargetType().getSimpleName()
          + ", was '"
          + f.getValue()
          + "'";
    }
    if (cause instanceof JsonMappingException m) {
      return "userConfig." + path(m) + ": " + m.getOriginalMessage();
    }
    return "userConfig: " + cause.getMessage();
  }

  private static String path(JsonMappingException e) {
    return e.getPath().stream()
        .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
        .collect(Collectors.joining("."))
        .replace(".[", "[");
  }
}
