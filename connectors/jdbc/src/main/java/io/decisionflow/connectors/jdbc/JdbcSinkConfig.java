package io.decisionflow.connectors.jdbc;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Configuration of the decisions JDBC sink: the {@code configs} map of its sink config, bound by
 * name. Numbers may arrive as integers, doubles or strings. {@code userName} and {@code password}
 * are better given as the sink's secrets, which win over these.
 */
public final class JdbcSinkConfig {

  private static final Pattern TABLE =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");
  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** e.g. {@code jdbc:postgresql://db:5432/decisionflow}; required. */
  public String jdbcUrl;

  /** The table, optionally schema-qualified; default {@code decisions}. */
  public String tableName = "decisions";

  /** Most rows per transaction; default 500. */
  public Integer batchSize = 500;

  /** How long the writer waits for a first record before looking again, in ms; default 200. */
  public Long flushIntervalMs = 200L;

  /** Records held in memory at most; beyond, {@code write} blocks (backpressure). Default 10000. */
  public Integer maxPendingRecords = 10_000;

  /** Longest wait between two attempts while the database fails, in ms; default 10000. */
  public Long maxBackoffMs = 10_000L;

  /** Used only if the sink has no secret {@code userName}. */
  public String userName;

  /** Used only if the sink has no secret {@code password}. */
  public String password;

  /**
   * Binds and checks {@code configs}.
   *
   * @throws IllegalArgumentException naming the setting, its value and what is expected
   */
  public static JdbcSinkConfig load(Map<String, Object> configs) {
    JdbcSinkConfig config;
    try {
      config = MAPPER.convertValue(configs == null ? Map.of() : configs, JdbcSinkConfig.class);
    } catch (IllegalArgumentException e) {
      if (e.getCause() instanceof UnrecognizedPropertyException unknown) {
        throw new IllegalArgumentException(
            "configs."
                + unknown.getPropertyName()
                + ": unknown setting; known: jdbcUrl, tableName, batchSize, flushIntervalMs,"
                + " maxPendingRecords, maxBackoffMs, userName, password",
            e);
      }
      throw new IllegalArgumentException("configs: " + e.getMessage(), e);
    }
    config.validate();
    return config;
  }

  private void validate() {
    require(
        jdbcUrl != null && jdbcUrl.startsWith("jdbc:postgresql:"),
        "jdbcUrl",
        jdbcUrl,
        "is required, e.g. jdbc:postgresql://db:5432/decisionflow");
    require(
        tableName != null && TABLE.matcher(tableName).matches(),
        "tableName",
        tableName,
        "must be a table name, optionally schema-qualified (e.g. decisions, fraud.decisions)");
    require(
        batchSize != null && batchSize >= 1 && batchSize <= 100_000,
        "batchSize",
        batchSize,
        "must be >= 1 and <= 100000");
    require(
        flushIntervalMs != null && flushIntervalMs >= 1 && flushIntervalMs <= 60_000,
        "flushIntervalMs",
        flushIntervalMs,
        "must be >= 1 and <= 60000");
    require(
        maxPendingRecords != null && maxPendingRecords >= batchSize,
        "maxPendingRecords",
        maxPendingRecords,
        "must be >= batchSize (" + batchSize + ")");
    require(
        maxBackoffMs != null && maxBackoffMs >= flushIntervalMs,
        "maxBackoffMs",
        maxBackoffMs,
        "must be >= flushIntervalMs (" + flushIntervalMs + ")");
  }

  private static void require(boolean ok, String field, Object value, String expected) {
    if (!ok) {
      throw new IllegalArgumentException(
          "configs." + field + ": " + expected + ", was " + (value == null ? "<unset>" : value));
    }
  }
}
