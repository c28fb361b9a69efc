package io.decisionflow.connectors.archive;

import static io.decisionflow.connectors.archive.Decisions.T0;
import static io.decisionflow.connectors.archive.Decisions.TOPIC;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pulsar.io.core.SinkContext;
import org.junit.jupiter.api.Test;

class DecisionArchiveSinkTest {

  private final MutableClock clock = new MutableClock(Instant.ofEpochMilli(T0));
  private final FakeObjectWriter writer = new FakeObjectWriter();
  private final List<ArchiveSinkConfig.Credentials> credentials = new ArrayList<>();
  private final DecisionArchiveSink sink =
      new DecisionArchiveSink(
          clock,
          (config, creds) -> {
            credentials.add(creds);
            return writer;
          });

  /** A sink context that knows only secrets. */
  private static SinkContext context(Map<String, String> secrets) {
    return (SinkContext)
        Proxy.newProxyInstance(
            SinkContext.class.getClassLoader(),
            new Class<?>[] {SinkContext.class},
            (proxy, method, args) -> {
              switch (method.getName()) {
                case "getSecret":
                  return secrets.get((String) args[0]);
                case "getTenant":
                  return "payments";
                case "getNamespace":
                  return "decisions";
                case "getSinkName":
                  return "decisions-archive";
                case "getInstanceId":
                  return 0;
                default:
                  break;
              }
              throw new UnsupportedOperationException(method.getName());
            });
  }

  @Test
  void archivesByAgeAndWritesTheRestOnClose() throws Exception {
    sink.open(
        Map.of("bucket", "decisions-archive", "maxBatchAgeMs", 1000.0),
        context(Map.of("accessKey", "id", "secretKey", "secret")));
    FakeRecord first =
        new FakeRecord(TOPIC, FakeRecord.single(1, 0), T0, Decisions.decision(0, T0));
    FakeRecord second =
        new FakeRecord(TOPIC, FakeRecord.single(1, 1), T0, Decisions.decision(1, T0));

    sink.write(first);
    clock.advance(Duration.ofSeconds(1));
    sink.flushDue();
    sink.write(second);
    sink.close();

    assertThat(credentials).containsExactly(new ArchiveSinkConfig.Credentials("id", "secret"));
    assertThat(writer.keys())
        .hasSize(2)
        .allMatch(key -> key.startsWith("decisions/tenant=payments/"));
    assertThat(first.acked()).isTrue();
    assertThat(second.acked()).isTrue();
    assertThat(writer.closed).isTrue();
    assertThat(sink.metrics().value("decisionflow_archive_records_in_total")).isEqualTo(2.0);
    assertThat(sink.metrics().value("decisionflow_archive_records_total")).isEqualTo(2.0);
    assertThat(sink.metrics().value("decisionflow_archive_objects_total")).isEqualTo(2.0);
    assertThat(sink.metrics().value("decisionflow_archive_put_seconds_count")).isEqualTo(2.0);
    assertThat(sink.metrics().value("decisionflow_archive_bytes_total")).isPositive();
  }

  @Test
  void aBadConfigFailsOpenNamingTheField() {
    assertThatThrownBy(
            () ->
                sink.open(
                    Map.of("bucket", "decisions-archive", "maxBatchRecords", 0), context(Map.of())))
        .isInstanceOf(ArchiveConfigException.class)
        .hasMessage("configs.maxBatchRecords: must be >= 1 and <= 1000000, was 0");
    assertThat(credentials).isEmpty();
  }
}
