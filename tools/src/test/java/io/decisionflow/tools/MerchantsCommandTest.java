package io.decisionflow.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.decisionflow.deploy.MerchantCsv;
import io.decisionflow.schemas.reference.MerchantRisk;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MerchantsCommandTest {

  @TempDir Path work;

  /** Runs {@code decisionflow <args>} against no cluster; returns exit code, stdout, stderr. */
  private static String[] run(String... args) {
    CommandLine cli = DecisionflowCli.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new String[] {String.valueOf(code), out.toString(), err.toString()};
  }

  private Path csv(String... lines) throws IOException {
    Path file = work.resolve("merchants.csv");
    Files.write(file, List.of(lines), StandardCharsets.UTF_8);
    return file;
  }

  @Test
  void aFileWithBadRowsIsRefusedWholeNamingEachRowBeforeAnyClusterIsContacted() throws IOException {
    // Given two bad rows among good ones; the cluster URL points nowhere
    Path file = csv("merchant_id,risk", "merchant-1,0.5", "merchant-2,1.7", "merchant-3,x");

    // When
    String[] result =
        run(
            "merchants",
            "load",
            "--project-dir",
            "..",
            "--service-url",
            "pulsar://127.0.0.1:1",
            "--unit",
            "payments",
            "--file",
            file.toString());

    // Then
    assertThat(result[0]).isEqualTo("1");
    assertThat(result[2])
        .contains("rejected " + file + ":3: risk must be in [0, 1], was 1.7")
        .contains("rejected " + file + ":4: risk must be a number in [0, 1], was 'x'")
        .contains(
            "error: 2 bad rows in "
                + file
                + "; nothing published (fix them, or pass --skip-bad-rows to publish the 1 good"
                + " rows)");
  }

  @Test
  void aDryRunSaysWhatWouldBePublishedAndDeleted() throws IOException {
    // Given
    Path file = csv("merchant_id,risk,category", "merchant-1,0.5,5411", "merchant-2,", "m,2");

    // When: bad rows skipped, nothing published
    String[] result =
        run(
            "merchants",
            "load",
            "--project-dir",
            "..",
            "--file",
            file.toString(),
            "--skip-bad-rows",
            "--dry-run");

    // Then
    assertThat(result[0]).as(result[2]).isEqualTo("0");
    assertThat(result[2]).contains(":4: risk must be in [0, 1], was 2.0");
    assertThat(result[1])
        .contains(
            "merchants of payments/fraud from "
                + file
                + ": would publish 1, delete 1; 1 rejected (dry run, nothing published)");
  }

  @Test
  void exportSyntheticWritesTheGeneratorsTableWithItsUnknownMerchantsAsDeletions()
      throws IOException {
    // When
    Path file = work.resolve("synthetic/merchants.csv");
    String[] result = run("merchants", "export-synthetic", "--file", file.toString());

    // Then
    assertThat(result[0]).as(result[2]).isEqualTo("0");
    assertThat(result[1]).contains("wrote 471 merchants and 29 deletions");
    MerchantCsv.Parsed parsed = MerchantCsv.read(file);
    assertThat(parsed.rejected()).isEmpty();
    assertThat(parsed.upserts()).isEqualTo(471);
    assertThat(parsed.deletes()).isEqualTo(29);
    List<Double> risks = new ArrayList<>();
    parsed.changes().stream().filter(c -> !c.deletes()).forEach(c -> risks.add(c.row().getRisk()));
    assertThat(risks).allSatisfy(r -> assertThat(r).isBetween(0.0, 1.0));
  }

  @Test
  void showPrintsAMerchantOnOneLine() {
    MerchantRisk row =
        MerchantRisk.newBuilder()
            .setMerchantId("merchant-7")
            .setRisk(0.125)
            .setCategory("5411")
            .setUpdatedAtMs(0)
            .setSource("merchants.csv")
            .build();

    assertThat(MerchantsCommand.Show.line(row))
        .isEqualTo(
            "merchant-7       risk 0.125  category 5411   updated 1970-01-01T00:00:00Z  source"
                + " merchants.csv");
  }
}
