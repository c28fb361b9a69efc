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
}
