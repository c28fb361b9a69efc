package io.decisionflow.connectors.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.decisionflow.schemas.Decision;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The decisions table through a small HikariCP pool: a connection broken by a database restart is
 * dropped and a new one opened on the next attempt. The table's columns are read at the first
 * connection that succeeds.
 */
final class PostgresDecisionStore implements DecisionStore {

  private static final Logger LOG = LoggerFactory.getLogger(PostgresDecisionStore.class);

  private final HikariDataSource pool;
  private final String tableName;
  private volatile DecisionTable table;

  PostgresDecisionStore(String jdbcUrl, String tableName, String user, String password) {
    HikariConfig config = new HikariConfig();
    config.setPoolName("decisionflow-jdbc-sink");
    config.setJdbcUrl(jdbcUrl);
    config.setUsername(user);
    config.setPassword(password);
    config.setMaximumPoolSize(2);
    config.setMinimumIdle(1);
    config.setAutoCommit(false);
    config.setConnectionTimeout(5_000);
    config.setValidationTimeout(2_000);
    // Start even while the database is down: the writer retries.
    config.setInitializationFailTimeout(-1);
    // One multi-row INSERT per batch instead of one statement per row.
    config.addDataSourceProperty("reWriteBatchedInserts", "true");
    this.pool = new HikariDataSource(config);
    this.tableName = tableName;
  }

  @Override
  public void upsert(List<Decision> decisions) throws SQLException {
    try (Connection connection = pool.getConnection()) {
      DecisionTable mapping = table(connection);
      try (PreparedStatement statement = connection.prepareStatement(mapping.upsertSql())) {
        for (Decision decision : decisions) {
          mapping.bind(statement, decision);
          statement.addBatch();
        }
        statement.executeBatch();
        connection.commit();
      } catch (SQLException | RuntimeException e) {
        try {
          connection.rollback();
        } catch (SQLException rollback) {
          e.addSuppressed(rollback);
        }
        throw e;
      }
    }
  }

  private DecisionTable table(Connection connection) throws SQLException {
    DecisionTable mapping = table;
    if (mapping == null) {
      mapping = DecisionTable.of(tableName, columns(connection));
      if (!mapping.missingColumns().isEmpty()) {
        LOG.warn(
            "table {} has no column for the Decision fields {}: they are not stored (add a"
                + " migration)",
            tableName,
            mapping.missingColumns());
      }
      table = mapping;
    }
    return mapping;
  }

  private Set<String> columns(Connection connection) throws SQLException {
    String schema = null;
    String name = tableName;
    int dot = tableName.indexOf('.');
    if (dot > 0) {
      schema = tableName.substring(0, dot);
      name = tableName.substring(dot + 1);
    }
    Set<String> columns = new LinkedHashSet<>();
    try (ResultSet rs = connection.getMetaData().getColumns(null, schema, name, null)) {
      while (rs.next()) {
        columns.add(rs.getString("COLUMN_NAME"));
      }
    }
    if (columns.isEmpty()) {
      throw new SQLException(
          "table " + tableName + " does not exist: create it with decisionflow db migrate");
    }
    return columns;
  }

  @Override
  public void close() {
    pool.close();
  }
}
