package io.decisionflow.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.models.synthetic.TransactionGenerator;
import io.decisionflow.schemas.Transaction;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GroundTruthTest {

  @TempDir Path dir;

  @Test
  void writesAndReadsBackTheLabels() throws Exception {
    GroundTruth truth = new GroundTruth();
    truth.add(
        "tx-1",
        "card-1",
        new TransactionGenerator.Labelled(Transaction.getDefaultInstance(), true, 0.8125));
    truth.add(
        "tx-2",
        "card-2",
        new TransactionGenerator.Labelled(Transaction.getDefaultInstance(), false, 0.0125));
    Path file = dir.resolve("out/labels.csv");

    truth.write(file);
    GroundTruth read = GroundTruth.read(file);

    assertThat(Files.readAllLines(file).get(0)).isEqualTo(GroundTruth.CSV_HEADER);
    assertThat(read.size()).isEqualTo(2);
    assertThat(read.frauds()).isEqualTo(1);
    assertThat(read.get("tx-1")).isEqualTo(new GroundTruth.Label("card-1", true, 0.8125));
    assertThat(read.get("tx-2")).isEqualTo(new GroundTruth.Label("card-2", false, 0.0125));
  }

  @Test
  void aBadLineIsNamed() throws Exception {
    Path file = dir.resolve("labels.csv");
    Files.writeString(file, GroundTruth.CSV_HEADER + "\ntx-1,card-1,maybe,0.5\n");

    assertThatThrownBy(() -> GroundTruth.read(file))
        .hasMessageContaining("line 2")
        .hasMessageContaining("tx-1,card-1,maybe,0.5");
  }
}
