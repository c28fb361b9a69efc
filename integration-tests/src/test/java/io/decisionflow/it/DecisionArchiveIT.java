package io.decisionflow.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.util.JsonFormat;
import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.Topics;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.apache.pulsar.client.api.Producer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The decisions archive sink ({@code pulsar-deploy/sinks/archive.yaml}, our NAR from {@code
 * connectors/}) deployed alone for a unit of its own on the real standalone, writing to the local
 * S3-compatible server: every decision lands in exactly one object, in the folder of its unit and
 * of the hour it was decided, and reads back as the same Decision.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class DecisionArchiveIT {

  private static final DateTimeFormatter DATE =
      DateTimeFormatter.ofPattern("'date='yyyy-MM-dd/'hour='HH").withZone(ZoneOffset.UTC);

  private PulsarStandalone pulsar;
  private S3Server s3;
  private BusinessUnit unit;
  private BusinessNamespace ns;
  private String bucket;

  @BeforeAll
  void deployArchiveAlone() throws Exception {
    pulsar = PulsarStandalone.get();
    s3 = S3Server.get();
    bucket = "archive-" + UUID.randomUUID().toString().substring(0, 8);
    s3.createBucket(bucket);
    unit = TestUnits.isolated(pulsar.projectDir(), "payments");
    ns = unit.pipelineNamespace();
    BusinessUnit.SinkSettings archive = new BusinessUnit.SinkSettings();
    archive.configs.put("bucket", bucket);
    archive.configs.put("endpoint", s3.endpoint());
    archive.configs.put("maxBatchRecords", 400);
    archive.configs.put("maxBatchAgeMs", 2000);
    archive.secrets.put("accessKey", S3Server.ACCESS_KEY);
    archive.secrets.put("secretKey", S3Server.SECRET_KEY);
    unit.pipeline.sinks.put("decisions-archive", archive);
    TestUnits.provisionAndDeploySinksAlone(pulsar, unit);
  }

  @AfterAll
  void undeploy() throws Exception {
    if (unit != null) {
      new Pipeline(pulsar.admin(), pulsar.projectDir(), System.out::println).undeploy(unit);
    }
  }

  @Test
  void theArchiveHoldsEveryDecisionOnceInTheFolderOfItsHour() throws Exception {
    // Given 1,000 decisions over two hours, published in bursts
    long tenOClock = Instant.parse("2026-06-01T10:59:59Z").toEpochMilli();
    Map<String, Decision> sent = new HashMap<>();
    try (Producer<Decision> producer =
        pulsar
            .client()
            .newProducer(Topics.DECISIONS.schema())
            .topic(Topics.DECISIONS.in(ns))
            .create()) {
      for (int i = 0; i < 1000; i++) {
        Decision d =
            Decision.newBuilder()
                .setTransactionId("archive-" + i)
                .setCardId("card-" + (i % 50))
                .setScore((i % 100) / 100.0)
                .setOutcome((i % 100) >= 20 ? "ALERT" : "OK")
                .setFeaturesJson("{\"amount\":" + i + "}")
                .setDecidedAtMs(tenOClock + (i < 500 ? 0 : 2_000) + i)
                .build();
        sent.put(d.getTransactionId(), d);
        producer.newMessage().key(d.getCardId()).value(d).sendAsync();
        if (i % 250 == 249) {
          producer.flush();
        }
      }
    }

    // When the sink has written them all (batches close by count and by age)
    String folder = "decisions/tenant=" + ns.tenant() + "/namespace=" + ns.namespace() + "/";
    await("every decision archived")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> rows(folder).size() >= sent.size());

    // Then each is in exactly one object, the same decision, under the hour it was decided in
    List<Row> rows = rows(folder);
    assertThat(rows).hasSize(sent.size());
    Map<String, Row> byId = new HashMap<>();
    for (Row row : rows) {
      assertThat(byId.put(row.decision().getTransactionId(), row))
          .as("second copy of %s", row.decision().getTransactionId())
          .isNull();
      assertThat(row.decision()).isEqualTo(sent.get(row.decision().getTransactionId()));
      assertThat(row.key())
          .startsWith(folder + DATE.format(Instant.ofEpochMilli(row.decision().getDecidedAtMs())))
          .endsWith(".jsonl.gz");
    }
    assertThat(byId.keySet()).isEqualTo(sent.keySet());
    assertThat(rows.stream().map(Row::key).distinct().filter(k -> k.contains("hour=10")))
        .isNotEmpty();
    assertThat(rows.stream().map(Row::key).distinct().filter(k -> k.contains("hour=11")))
        .isNotEmpty();

    // And the sink's metrics on the worker's /metrics count them, and the objects it stored
    Map<String, String> sink =
        Map.of("fqfn", ns.tenant() + "/" + ns.namespace() + "/decisions-archive");
    long objects = rows.stream().map(Row::key).distinct().count();
    await("the archive's metrics")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(
            () -> {
              String text = WorkerMetrics.scrape();
              assertThat(WorkerMetrics.value(text, "decisionflow_archive_records_total", sink))
                  .hasValue(1000.0);
              assertThat(WorkerMetrics.value(text, "decisionflow_archive_objects_total", sink))
                  .hasValue((double) objects);
              assertThat(WorkerMetrics.value(text, "decisionflow_archive_put_seconds_count", sink))
                  .hasValue((double) objects);
              assertThat(WorkerMetrics.value(text, "decisionflow_archive_pending_records", sink))
                  .hasValue(0.0);
            });
  }

  private record Row(String key, Decision decision) {}

  private List<Row> rows(String folder) throws Exception {
    List<Row> rows = new ArrayList<>();
    for (S3Object object :
        s3.client().listObjectsV2Paginator(b -> b.bucket(bucket).prefix(folder)).contents()) {
      try (BufferedReader lines =
          new BufferedReader(
              new InputStreamReader(
                  new GZIPInputStream(
                      s3.client().getObject(b -> b.bucket(bucket).key(object.key()))),
                  StandardCharsets.UTF_8))) {
        String line;
        while ((line = lines.readLine()) != null) {
          Decision.Builder d = Decision.newBuilder();
          JsonFormat.parser().merge(line, d);
          rows.add(new Row(object.key(), d.build()));
        }
      } catch (software.amazon.awssdk.services.s3.model.NoSuchKeyException e) {
        // listed, then gone before it was read (a CI run saw it): the caller's poll reads again
      }
    }
    return rows;
  }
}
