package io.decisionflow.deploy;

import io.decisionflow.schemas.reference.MerchantRisk;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.enrich.MerchantRiskValidator;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The merchant reference table as a CSV file (UTF-8):
 *
 * <pre>
 * merchant_id,risk,category
 * merchant-1,0.12,5411
 * merchant-2,0.9
 * merchant-3,
 * </pre>
 *
 * <p>The first line is the header, {@code merchant_id,risk} or {@code merchant_id,risk,category}.
 * Each row names a merchant, its risk (a decimal number in [0, 1]) and optionally its category. A
 * row with an empty risk deletes the merchant from the table (it is published as a tombstone).
 * Blank lines and lines starting with {@code #} are skipped; a field may be double-quoted (a comma
 * inside, {@code ""} for a quote). Rows are kept in file order: for a merchant named twice, the
 * later row wins, as it would on the topic.
 *
 * <p>A row that cannot be published is rejected with the file, the line number, the field and the
 * value, e.g. {@code merchants.csv:17: risk must be in [0, 1], was 1.7}.
 */
public final class MerchantCsv {

  /** The header {@link #write} writes; {@code category} may be left out. */
  public static final String HEADER = "merchant_id,risk,category";

  private static final Pattern DECIMAL =
      Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

  /**
   * A row that cannot be published.
   *
   * @param line its line number, from 1
   * @param field the field at fault, e.g. {@code risk}
   * @param value the value as text
   * @param message {@code <file>:<line>: <what is wrong>, was <value>}
   */
  public record Rejected(int line, String field, String value, String message) {}

  /**
   * What a file holds.
   *
   * @param file the file as named in messages
   * @param changes the good rows, in file order
   * @param rejected the rows that cannot be published, in file order
   */
  public record Parsed(
      String file, List<MerchantRegistry.Change> changes, List<Rejected> rejected) {

    /** Rows that set a merchant's risk. */
    public long upserts() {
      return changes.stream().filter(c -> !c.deletes()).count();
    }

    /** Rows that delete a merchant. */
    public long deletes() {
      return changes.stream().filter(MerchantRegistry.Change::deletes).count();
    }
  }

  private MerchantCsv() {}

  /**
   * Reads a file. Its rows' {@code source} is the file's name.
   *
   * @throws IllegalArgumentException if the file has no header, or another header
   */
  public static Parsed read(Path file) throws IOException {
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return parse(file.toString(), String.valueOf(file.getFileName()), in);
    }
  }

  /**
   * Parses CSV text.
   *
   * @param file the file as named in messages
   * @param source what the rows give as their {@code source}
   * @throws IllegalArgumentException if there is no header, or another header
   */
  public static Parsed parse(String file, String source, BufferedReader in) throws IOException {
    List<MerchantRegistry.Change> changes = new ArrayList<>();
    List<Rejected> rejected = new ArrayList<>();
    int columns = 0;
    int number = 0;
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      number++;
      if (number == 1 && line.startsWith("\uFEFF")) {
        line = line.substring(1);
      }
      if (line.isBlank() || line.stripLeading().startsWith("#")) {
        continue;
      }
      if (columns == 0) {
        columns = header(file, number, line);
        continue;
      }
      try {
        changes.add(row(fields(line), columns, source));
      } catch (InvalidRecordException e) {
        rejected.add(
            new Rejected(
                number, e.field(), e.value(), file + ":" + number + ": " + e.getMessage()));
      }
    }
    if (columns == 0) {
      throw new IllegalArgumentException(
          file + ": no header; the first line must be merchant_id,risk[,category]");
    }
    return new Parsed(file, List.copyOf(changes), List.copyOf(rejected));
  }

  /** The number of columns of a valid header, 2 or 3. */
  private static int header(String file, int number, String line) {
    List<String> names = new ArrayList<>();
    try {
      for (String field : fields(line)) {
        names.add(field.strip().toLowerCase(Locale.ROOT));
      }
    } catch (InvalidRecordException e) {
      names = List.of();
    }
    if (names.equals(List.of("merchant_id", "risk"))
        || names.equals(List.of("merchant_id", "risk", "category"))) {
      return names.size();
    }
    throw new IllegalArgumentException(
        file
            + ":"
            + number
            + ": the header must be merchant_id,risk[,category], was '"
            + line
            + "'");
  }

  private static MerchantRegistry.Change row(List<String> fields, int columns, String source) {
    if (fields.size() < 2 || fields.size() > columns) {
      throw new InvalidRecordException(
          "row",
          fields.size() + (fields.size() == 1 ? " field" : " fields"),
          "must have "
              + (columns == 2
                  ? "2 fields (merchant_id,risk)"
                  : "2 or 3 fields (merchant_id,risk[,category])"));
    }
    String merchantId = fields.get(0).strip();
    if (merchantId.isEmpty()) {
      throw new InvalidRecordException("merchant_id", merchantId, "is required");
    }
    String risk = fields.get(1).strip();
    if (risk.isEmpty()) {
      return MerchantRegistry.Change.delete(merchantId);
    }
    if (!DECIMAL.matcher(risk).matches()) {
      throw new InvalidRecordException("risk", risk, "must be a number in [0, 1]");
    }
    MerchantRisk row =
        MerchantRisk.newBuilder()
            .setMerchantId(merchantId)
            .setRisk(Double.parseDouble(risk))
            .setCategory(fields.size() > 2 ? fields.get(2).strip() : "")
            .setSource(source)
            .build();
    return MerchantRegistry.Change.upsert(MerchantRiskValidator.validate(row));
  }

  /** The fields of a line: comma-separated, each optionally double-quoted. */
  static List<String> fields(String line) {
    List<String> fields = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          field.append(c);
        }
      } else if (c == '"' && field.toString().isBlank()) {
        field.setLength(0);
        quoted = true;
      } else if (c == ',') {
        fields.add(field.toString());
        field.setLength(0);
      } else {
        field.append(c);
      }
    }
    if (quoted) {
      throw new InvalidRecordException("row", line, "has a quote that is not closed");
    }
    fields.add(field.toString());
    return fields;
  }

  /**
   * Writes a table as CSV: a row for each of {@code rows}, then a row with an empty risk for each
   * of {@code deleted}, so that loading the file leaves exactly {@code rows} of these merchants in
   * the table.
   */
  public static void write(Path file, List<MerchantRisk> rows, Collection<String> deleted)
      throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      out.write(HEADER + "\n");
      for (MerchantRisk row : rows) {
        out.write(
            quote(row.getMerchantId())
                + ","
                + row.getRisk()
                + ","
                + quote(row.getCategory())
                + "\n");
      }
      for (String merchantId : deleted) {
        out.write(quote(merchantId) + ",,\n");
      }
    }
  }

  private static String quote(String value) {
    return value.contains(",") || value.contains("\"") || value.strip().length() != value.length()
        ? "\"" + value.replace("\"", "\"\"") + "\""
        : value;
  }
}
