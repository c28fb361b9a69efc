package io.decisionflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.schemas.reference.MerchantRisk;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MerchantCsvTest {

  @TempDir Path work;

  private static MerchantCsv.Parsed parse(String... lines) throws IOException {
    return MerchantCsv.parse(
        "merchants.csv",
        "merchants.csv",
        new BufferedReader(new StringReader(String.join("\n", lines) + "\n")));
  }

  @Test
  void readsRisksCategoriesAndTombstonesInFileOrder() throws IOException {
    // Given
    MerchantCsv.Parsed parsed =
        parse(
            "merchant_id,risk,category",
            "merchant-1,0.12,5411",
            "# a comment, and a blank line",
            "",
            " merchant-2 , 0.9 ",
            "merchant-3,",
            "\"merchant,4\",1,\"Shoes, \"\"fine\"\"\"",
            "merchant-5,0");

    // Then
    assertThat(parsed.rejected()).isEmpty();
    assertThat(parsed.upserts()).isEqualTo(4);
    assertThat(parsed.deletes()).isEqualTo(1);
    List<MerchantRegistry.Change> changes = parsed.changes();
    assertThat(changes)
        .extracting(MerchantRegistry.Change::merchantId)
        .containsExactly("merchant-1", "merchant-2", "merchant-3", "merchant,4", "merchant-5");
    assertThat(changes.get(0).row())
        .isEqualTo(
            MerchantRisk.newBuilder()
                .setMerchantId("merchant-1")
                .setRisk(0.12)
                .setCategory("5411")
                .setSource("merchants.csv")
                .build());
    assertThat(changes.get(1).row().getRisk()).isEqualTo(0.9);
    assertThat(changes.get(1).row().getCategory()).isEmpty();
    assertThat(changes.get(2).deletes()).isTrue();
    assertThat(changes.get(3).row().getCategory()).isEqualTo("Shoes, \"fine\"");
    assertThat(changes.get(4).row().getRisk()).isZero();
  }

  @Test
  void rejectsBadRowsNamingFileLineFieldAndValue() throws IOException {
    // Given
    MerchantCsv.Parsed parsed =
        parse(
            "merchant_id,risk",
            "merchant-1,0.5",
            "merchant-2,1.7",
            ",0.3",
            "merchant-4,high",
            "merchant-5,NaN",
            "merchant-6,-0.1",
            "merchant-7,0.2,5411",
            "merchant-8",
            "merchant-9,0.1");

    // Then the good rows are kept
    assertThat(parsed.changes())
        .extracting(MerchantRegistry.Change::merchantId)
        .containsExactly("merchant-1", "merchant-9");
    // and each bad one is rejected with where and why
    assertThat(parsed.rejected())
        .extracting(MerchantCsv.Rejected::message)
        .containsExactly(
            "merchants.csv:3: risk must be in [0, 1], was 1.7",
            "merchants.csv:4: merchant_id is required, was <empty>",
            "merchants.csv:5: risk must be a number in [0, 1], was 'high'",
            "merchants.csv:6: risk must be a number in [0, 1], was 'NaN'",
            "merchants.csv:7: risk must be in [0, 1], was -0.1",
            "merchants.csv:8: row must have 2 fields (merchant_id,risk), was '3 fields'",
            "merchants.csv:9: row must have 2 fields (merchant_id,risk), was '1 field'");
    MerchantCsv.Rejected first = parsed.rejected().get(0);
    assertThat(first.line()).isEqualTo(3);
    assertThat(first.field()).isEqualTo("risk");
    assertThat(first.value()).isEqualTo("1.7");
  }

  @Test
  void aFileWithoutTheHeaderIsRefusedAsAWhole() {
    assertThatThrownBy(() -> parse("id;risk", "merchant-1;0.5"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "merchants.csv:1: the header must be merchant_id,risk[,category], was 'id;risk'");
    assertThatThrownBy(() -> parse("# nothing but a comment"))
        .hasMessageContaining("merchants.csv: no header");
  }

  @Test
  void anUnclosedQuoteIsRejectedWithItsLine() throws IOException {
    MerchantCsv.Parsed parsed = parse("merchant_id,risk,category", "merchant-1,0.5,\"open");

    assertThat(parsed.rejected())
        .extracting(MerchantCsv.Rejected::message)
        .containsExactly(
            "merchants.csv:2: row has a quote that is not closed, was 'merchant-1,0.5,\"open'");
  }

  @Test
  void aWrittenTableReadsBackWithItsDeletions() throws IOException {
    // Given
    List<MerchantRisk> rows =
        List.of(
            MerchantRisk.newBuilder()
                .setMerchantId("merchant-1")
                .setRisk(0.123)
                .setCategory("5411")
                .build(),
            MerchantRisk.newBuilder().setMerchantId("odd, one").setRisk(1.0).build());
    Path file = work.resolve("out/merchants.csv");

    // When
    MerchantCsv.write(file, rows, List.of("merchant-404"));
    MerchantCsv.Parsed read = MerchantCsv.read(file);

    // Then
    assertThat(Files.readAllLines(file, StandardCharsets.UTF_8))
        .startsWith("merchant_id,risk,category", "merchant-1,0.123,5411");
    assertThat(read.rejected()).isEmpty();
    assertThat(read.changes())
        .containsExactly(
            MerchantRegistry.Change.upsert(
                rows.get(0).toBuilder().setSource("merchants.csv").build()),
            MerchantRegistry.Change.upsert(
                rows.get(1).toBuilder().setSource("merchants.csv").build()),
            MerchantRegistry.Change.delete("merchant-404"));
  }
}
