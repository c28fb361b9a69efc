package io.decisionflow.it;

import io.decisionflow.deploy.LocalPostgres;
import java.nio.file.Path;

/**
 * The one PostgreSQL the integration tests of a run share: PostgreSQL's own binaries started by
 * {@link LocalPostgres} on a free port, with its data under {@code target/postgres/}, stopped when
 * the test JVM exits. Tests keep apart by databases of their own.
 */
final class PostgresServer {

  private static PostgresServer instance;

  private final LocalPostgres server;

  private PostgresServer(LocalPostgres server) {
    this.server = server;
  }

  /** The shared server, started on first use. */
  static synchronized PostgresServer get() throws Exception {
    if (instance == null) {
      Path dir =
          Path.of(System.getProperty("decisionflow.postgresDir", "target/postgres"))
              .resolve("run-" + ProcessHandle.current().pid());
      long start = System.nanoTime();
      LocalPostgres server =
          LocalPostgres.start(dir, 0, "it-" + Long.toHexString(System.nanoTime()));
      System.out.printf(
          "[it] PostgreSQL on 127.0.0.1:%d (data %s), up in %d ms%n",
          server.port(), dir, (System.nanoTime() - start) / 1_000_000);
      instance = new PostgresServer(server);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      server.stop();
                    } catch (Exception e) {
                      System.err.println("stopping PostgreSQL failed: " + e.getMessage());
                    }
                  }));
    }
    return instance;
  }

  LocalPostgres server() {
    return server;
  }

  /**
   * transaction_id to score of the rows of {@code database}'s decisions table whose transaction id
   * starts with {@code prefix}; a transaction id twice fails the test.
   */
  java.util.Map<String, Double> scores(String database, String prefix) throws Exception {
    return scores(server, database, prefix);
  }

  /** {@link #scores(String, String)} on any server (e.g. a region's own). */
  static java.util.Map<String, Double> scores(LocalPostgres server, String database, String prefix)
      throws Exception {
    java.util.Map<String, Double> scores = new java.util.HashMap<>();
    try (java.sql.Connection c = server.connect(database);
        java.sql.PreparedStatement q =
            c.prepareStatement(
                "SELECT transaction_id, score FROM decisions WHERE transaction_id LIKE ?")) {
      q.setString(1, prefix + "%");
      try (java.sql.ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          org.assertj.core.api.Assertions.assertThat(scores.put(rs.getString(1), rs.getDouble(2)))
              .as("second row of %s", rs.getString(1))
              .isNull();
        }
      }
    }
    return scores;
  }
}
