package io.decisionflow.tools;

import io.decisionflow.deploy.DecisionsDatabase;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The decisions table in PostgreSQL. */
@Command(
    name = "db",
    mixinStandardHelpOptions = true,
    description = "The decisions table in PostgreSQL, that the decisions-postgres sink writes.",
    subcommands = {DbCommand.Migrate.class})
final class DbCommand {

  @Command(
      name = "migrate",
      mixinStandardHelpOptions = true,
      description = {
        "Create or upgrade the decisions table: apply the migrations the database lacks",
        "(db/decisionflow/V*.sql in pulsar-deploy, with Flyway)."
      })
  static final class Migrate implements Callable<Integer> {

    @Option(
        names = "--jdbc-url",
        required = true,
        description = "e.g. jdbc:postgresql://127.0.0.1:5432/decisionflow")
    String jdbcUrl;

    @Option(
        names = "--user",
        defaultValue = "${env:DF_POSTGRES_USER:-decisionflow}",
        description = "Database role (default: $DF_POSTGRES_USER, else ${DEFAULT-VALUE}).")
    String user;

    @Option(
        names = "--password-env",
        defaultValue = "DF_POSTGRES_PASSWORD",
        description = "Environment variable that holds the password (${DEFAULT-VALUE}).")
    String passwordEnv;

    @Override
    public Integer call() {
      String password = System.getenv(passwordEnv);
      if (password == null) {
        throw new IllegalArgumentException(
            "--password-env: the environment variable "
                + passwordEnv
                + " is not set: export the database password in it");
      }
      DecisionsDatabase.Migration result = DecisionsDatabase.migrate(jdbcUrl, user, password);
      System.out.printf(
          "%s: %d migrations applied, schema version %s%n",
          jdbcUrl, result.applied(), result.version());
      return 0;
    }
  }
}
