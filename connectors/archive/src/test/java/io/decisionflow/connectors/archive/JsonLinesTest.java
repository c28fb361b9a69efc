package io.decisionflow.connectors.archive;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.util.JsonFormat;
import io.decisionflow.schemas.Decision;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

class JsonLinesTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void writesEveryFieldUnderItsProtoNameInFieldOrderOnOneLine() throws Exception {
    byte[] line = JsonLines.line(Decision.getDefaultInstance());
    String text = new String(line, StandardCharsets.UTF_8);

    assertThat(text).endsWith("\n").doesNotContain("\n\n").hasLineCount(1);
    JsonNode row = JSON.readTree(text);
    List<String> names = new ArrayList<>();
    row.fieldNames().forEachRemaining(names::add);
    assertThat(names)
        .containsExactlyElementsOf(
            Decision.getDescriptor().getFields().stream().map(FieldDescriptor::getName).toList());
    assertThat(row.get("transaction_id").asText()).isEmpty();
    assertThat(row.get("fallback").isBoolean()).isTrue();
  }

  @Test
  void writes64BitIntegersAsJsonNumbers() throws Exception {
    Decision decision = Decisions.decision(1, Decisions.T0);

    JsonNode row = JSON.readTree(JsonLines.line(decision));

    assertThat(row.get("decided_at_ms").isIntegralNumber()).isTrue();
    assertThat(row.get("decided_at_ms").asLong()).isEqualTo(Decisions.T0);
    assertThat(row.get("score").isDouble()).isTrue();
    assertThat(row.get("score").asDouble()).isEqualTo(decision.getScore());
  }

  @Test
  void jsonFormatParsesEveryRowBackToTheSameDecision() throws Exception {
    Decision tricky =
        Decisions.decision(2, Decisions.T0).toBuilder()
            .setMerchantId("m-\"quoted\"\\ and \n newline \u00e9 \u2603")
            .setScore(Double.NaN)
            .setAmount(Double.NEGATIVE_INFINITY)
            .setEventTimeMs(Long.MIN_VALUE)
            .build();
    for (Decision decision : List.of(Decision.getDefaultInstance(), tricky)) {
      Decision.Builder parsed = Decision.newBuilder();
      JsonFormat.parser()
          .merge(new String(JsonLines.line(decision), StandardCharsets.UTF_8), parsed);
      assertThat(parsed.build()).isEqualTo(decision);
    }
  }

  /**
   * Measures the gzip ratio on decisions shaped like the pipeline's (the README reports it). Random
   * ids, scores and feature values are the least compressible part of real rows.
   */
  @Test
  void gzipShrinksABatchOfDecisionsSeveralFold() throws Exception {
    List<Decision> decisions = Decisions.realistic(10_000, 7);
    ByteArrayOutputStream compressed = new ByteArrayOutputStream();
    long raw = 0;
    try (GZIPOutputStream gzip = new GZIPOutputStream(compressed, 64 * 1024)) {
      for (Decision decision : decisions) {
        byte[] line = JsonLines.line(decision);
        raw += line.length;
        gzip.write(line);
      }
    }
    double ratio = (double) raw / compressed.size();
    System.out.printf(
        Locale.ROOT,
        "gzip: %d decisions, %d bytes of JSON lines (%d a row), %d gzipped, ratio %.2f%n",
        decisions.size(),
        raw,
        raw / decisions.size(),
        compressed.size(),
        ratio);

    assertThat(ratio).isGreaterThan(3.0);
  }
}
