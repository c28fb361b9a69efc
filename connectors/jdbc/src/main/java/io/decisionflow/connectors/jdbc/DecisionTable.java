package io.decisionflow.connectors.jdbc;

import com.google.protobuf.Descriptors.FieldDescriptor;
import io.decisionflow.schemas.Decision;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * How a {@link Decision} becomes a row: each scalar field of the message goes to the column of the
 * same name, if the table has one (a field added to the message before its migration is left out,
 * and named by {@link #missingColumns()}). Rows are written with {@code INSERT ... ON CONFLICT
 * (transaction_id) DO UPDATE}, so a decision written twice stays one row.
 */
final class DecisionTable {

  static final String KEY = "transaction_id";

  private final String table;
  private final List<FieldDescriptor> fields;
  private final List<String> missingColumns;

  private DecisionTable(String table, List<FieldDescriptor> fields, List<String> missingColumns) {
    this.table = table;
    this.fields = fields;
    this.missingColumns = missingColumns;
  }

  /**
   * The mapping onto a table with {@code columns} (as the database reports them).
   *
   * @throws IllegalStateException if the table has no {@value #KEY} column
   */
  static DecisionTable of(String table, Set<String> columns) {
    Set<String> lower =
        columns.stream().map(c -> c.toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
    if (!lower.contains(KEY)) {
      throw new IllegalStateException(
          "table "
              + table
              + " has no column "
              + KEY
              + " (columns: "
              + String.join(", ", columns)
              + "): create it with decisionflow db migrate");
    }
    List<FieldDescriptor> fields = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (FieldDescriptor field : Decision.getDescriptor().getFields()) {
      if (field.isRepeated() || field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      if (lower.contains(field.getName())) {
        fields.add(field);
      } else {
        missing.add(field.getName());
      }
    }
    return new DecisionTable(table, List.copyOf(fields), List.copyOf(missing));
  }

  /** Fields of the Decision that the table has no column for (they are not stored). */
  List<String> missingColumns() {
    return missingColumns;
  }

  /** {@code INSERT INTO t (c...) VALUES (?...) ON CONFLICT (transaction_id) DO UPDATE SET ...}. */
  String upsertSql() {
    String columns =
        fields.stream().map(FieldDescriptor::getName).collect(Collectors.joining(", "));
    String values = fields.stream().map(f -> "?").collect(Collectors.joining(", "));
    String updates =
        fields.stream()
            .map(FieldDescriptor::getName)
            .filter(c -> !c.equals(KEY))
            .map(c -> c + " = EXCLUDED." + c)
            .collect(Collectors.joining(", "));
    return "INSERT INTO "
        + table
        + " ("
        + columns
        + ") VALUES ("
        + values
        + ") ON CONFLICT ("
        + KEY
        + ") "
        + (updates.isEmpty() ? "DO NOTHING" : "DO UPDATE SET " + updates);
  }

  /** Binds the decision's fields to the statement's parameters, in column order. */
  void bind(PreparedStatement statement, Decision decision) throws SQLException {
    int index = 1;
    for (FieldDescriptor field : fields) {
      Object value = decision.getField(field);
      switch (field.getJavaType()) {
        case STRING -> statement.setString(index, (String) value);
        case DOUBLE -> statement.setDouble(index, (Double) value);
        case FLOAT -> statement.setFloat(index, (Float) value);
        case LONG -> statement.setLong(index, (Long) value);
        case INT -> statement.setInt(index, (Integer) value);
        case BOOLEAN -> statement.setBoolean(index, (Boolean) value);
        case ENUM ->
            statement.setString(
                index, ((com.google.protobuf.Descriptors.EnumValueDescriptor) value).getName());
        case BYTE_STRING ->
            statement.setBytes(index, ((com.google.protobuf.ByteString) value).toByteArray());
        default ->
            throw new IllegalStateException("field " + field.getName() + " cannot be stored");
      }
      index++;
    }
  }
}
