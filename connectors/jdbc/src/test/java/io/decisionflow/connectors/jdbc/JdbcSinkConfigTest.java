package io.decisionflow.connectors.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JdbcSinkConfigTest {

  private static Map<String, Object> configs(Object... keyValues) {
    Map<String, Object> configs = new LinkedHashMap<>();
    configs.put("jdbcUrl", "jdbc:postgresql://db:5432/decisionflow");
    for (int i = 0; i < keyValues.length; i += 2) {
      configs.put((String) keyValues[i], keyValues[i + 1]);
    }
    return configs;
  }

  @Test
  void defaultsAndNumbersAsDoublesOrStrings() {
    JdbcSinkConfig config =
        JdbcSinkConfig.load(configs("batchSize", 250.0, "flushIntervalMs", "50"));

    assertThat(config.tableName).isEqualTo("decisions");
    assertThat(config.batchSize).isEqualTo(250);
    assertThat(config.flushIntervalMs).isEqualTo(50);
    assertThat(config.maxPendingRecords).isEqualTo(10_000);
  }

  @Test
  void badValuesNameTheSettingAndTheValue() {
    assertThatThrownBy(() -> JdbcSinkConfig.load(configs("batchSize", 0)))
        .hasMessage("configs.batchSize: must be >= 1 and <= 100000, was 0");
    assertThatThrownBy(() -> JdbcSinkConfig.load(Map.of()))
        .hasMessage(
            "configs.jdbcUrl: is required, e.g. jdbc:postgresql://db:5432/decisionflow, was"
                + " <unset>");
    assertThatThrownBy(() -> JdbcSinkConfig.load(configs("tableName", "decisions; drop")))
        .hasMessageStartingWith("configs.tableName: must be a table name")
        .hasMessageEndingWith("was decisions; drop");
    assertThatThrownBy(() -> JdbcSinkConfig.load(configs("maxPendingRecords", 10)))
        .hasMessage("configs.maxPendingRecords: must be >= batchSize (500), was 10");
  }

  @Test
  void anUnknownSettingIsRefused() {
    assertThatThrownBy(() -> JdbcSinkConfig.load(configs("insertMode", "UPSERT")))
        .hasMessageStartingWith("configs.insertMode: unknown setting; known: jdbcUrl");
  }
}
