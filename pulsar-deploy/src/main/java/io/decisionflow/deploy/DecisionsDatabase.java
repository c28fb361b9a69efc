package io.decisionflow.deploy;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * The decisions table in PostgreSQL, that the JDBC sink writes: its schema is a series of
 * migrations ({@code db/decisionflow/V*.sql} in this module's resources) applied with Flyway, which
 * records what it applied in {@code flyway_schema_history}.
 */
public final class DecisionsDatabase {

  /** Where the migrations are, on the classpath. */
  public static final String MIGRATIONS = "classpath:db/decisionflow";

  /** What a migration did. */
  public record Migration(int applied, String version) {}

  private DecisionsDatabase() {}

  /**
   * Applies the migrations the database lacks.
   *
   * @throws IllegalStateException saying what failed, e.g. that the database refused the login
   */
  public static Migration migrate(String jdbcUrl, String user, String password) {
    try {
      MigrateResult result =
          Flyway.configure()
              .dataSource(jdbcUrl, user, password)
              .locations(MIGRATIONS)
              .connectRetries(5)
              .load()
              .migrate();
      return new Migration(
          result.migrationsExecuted,
          result.targetSchemaVersion != null
              ? result.targetSchemaVersion
              : result.initialSchemaVersion);
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "cannot migrate the decisions table at "
              + jdbcUrl
              + " as "
              + user
              + ": "
              + rootMessage(e),
          e);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + root + ")";
  }
}
