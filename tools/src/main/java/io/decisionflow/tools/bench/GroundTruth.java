package io.decisionflow.tools.bench;

import io.decisionflow.models.synthetic.TransactionGenerator;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The generator's labels of what it sent, by transaction id: whether each transaction is a fraud
 * and the fraud probability it was drawn from. The benchmark scores alerts against them; {@code
 * generate --labels} writes them to a CSV file for other tools.
 */
public final class GroundTruth {

  /** One transaction's label. */
  public record Label(String cardId, boolean fraud, double fraudProbability) {}

  static final String CSV_HEADER = "transaction_id,card_id,fraud,fraud_probability";

  private final Map<String, Label> labels = new ConcurrentHashMap<>();

  /** Records what was sent; {@code cardId} as sent (with any prefix). */
  public void add(String transactionId, String cardId, TransactionGenerator.Labelled labelled) {
    labels.put(transactionId, new Label(cardId, labelled.fraud(), labelled.fraudProbability()));
  }

  /** The label of {@code transactionId}, or null if this run did not send it. */
  public Label get(String transactionId) {
    return labels.get(transactionId);
  }

  public int size() {
    return labels.size();
  }

  /** Frauds among the labels. */
  public long frauds() {
    return labels.values().stream().filter(Label::fraud).count();
  }

  /** Writes the labels as CSV ({@value #CSV_HEADER}). */
  public void write(Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      w.write(CSV_HEADER);
      w.newLine();
      for (Map.Entry<String, Label> e : labels.entrySet()) {
        Label l = e.getValue();
        w.write(
            String.format(
                Locale.ROOT,
                "%s,%s,%s,%.6f",
                e.getKey(),
                l.cardId(),
                l.fraud(),
                l.fraudProbability()));
        w.newLine();
      }
    }
  }

  /**
   * Reads labels that {@link #write} wrote.
   *
   * @throws IllegalArgumentException naming the line that does not parse
   */
  public static GroundTruth read(Path file) throws IOException {
    GroundTruth truth = new GroundTruth();
    int n = 0;
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      n++;
      if (n == 1 && line.equals(CSV_HEADER)) {
        continue;
      }
      String[] f = line.split(",", -1);
      if (f.length != 4 || !(f[2].equals("true") || f[2].equals("false"))) {
        throw new IllegalArgumentException(
            file + " line " + n + ": expected " + CSV_HEADER + ", was '" + line + "'");
      }
      try {
        truth.labels.put(
            f[0], new Label(f[1], Boolean.parseBoolean(f[2]), Double.parseDouble(f[3])));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            file + " line " + n + ": fraud_probability is not a number, was '" + f[3] + "'");
      }
    }
    return truth;
  }
}
