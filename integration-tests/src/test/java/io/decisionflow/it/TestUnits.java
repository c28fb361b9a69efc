package io.decisionflow.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.DecisionsDatabase;
import io.decisionflow.deploy.FunctionDeployer;
import io.decisionflow.deploy.LocalPostgres;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.deploy.Provisioner;
import io.decisionflow.deploy.SinkDeployer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/** Business units for tests: a shipped unit file under a tenant of its own. */
final class TestUnits {

  private TestUnits() {}

  /**
   * {@code pulsar-deploy/business-units/<name>.yaml} with a unique tenant {@code it-<name>-<n>},
   * without its sinks (a test that wants one points it at its own database: {@link
   * #withPostgresSink}).
   */
  static BusinessUnit isolated(Path projectDir, String name) {
    BusinessUnit unit = BusinessUnit.load(projectDir.resolve("pulsar-deploy/business-units"), name);
    unit.tenant =
        "it-" + name + "-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    unit.pipeline.sinks.clear();
    return unit;
  }

  /**
   * Adds the decisions-postgres sink to {@code unit}, writing into a database of its own on the
   * shared PostgreSQL, migrated; the credentials go as secrets.
   *
   * @return the database's JDBC URL
   */
  static String withPostgresSink(BusinessUnit unit) throws Exception {
    return withPostgresSink(unit, PostgresServer.get().server(), unit.tenant.replace('-', '_'));
  }

  /**
   * Adds the decisions-postgres sink to {@code unit}, writing into {@code database} (created and
   * migrated) on {@code server}; the credentials go as secrets.
   *
   * @return the database's JDBC URL
   */
  static String withPostgresSink(BusinessUnit unit, LocalPostgres server, String database)
      throws Exception {
    String url = server.createDatabase(database);
    DecisionsDatabase.migrate(url, LocalPostgres.USER, server.password());
    BusinessUnit.SinkSettings sink = new BusinessUnit.SinkSettings();
    sink.configs.put("jdbcUrl", url);
    sink.secrets.put("userName", LocalPostgres.USER);
    sink.secrets.put("password", server.password());
    unit.pipeline.sinks.put("decisions-postgres", sink);
    return url;
  }

  /**
   * Creates the shipped function {@code pulsar-deploy/functions/<function>.yaml}, rendered for
   * {@code unit}, as the unit's only function, and waits until it runs.
   */
  static void deployAlone(PulsarStandalone pulsar, BusinessUnit unit, String function)
      throws Exception {
    Pipeline pipeline = new Pipeline(pulsar.admin(), pulsar.projectDir(), System.out::println);
    FunctionDeployer.Deployment deployment =
        FunctionDeployer.render(
            FunctionDeployer.read(pipeline.functionsDir().resolve(function + ".yaml")),
            unit,
            Map.of(),
            pulsar.projectDir());
    assertThat(new FunctionDeployer(pulsar.admin(), System.out::println).apply(deployment))
        .isEqualTo(FunctionDeployer.Outcome.CREATED);
    pipeline.awaitRunning(unit, Duration.ofMinutes(3));
  }

  /** Provisions {@code unit}, creates its sinks (and no function), and waits until they run. */
  static void provisionAndDeploySinksAlone(PulsarStandalone pulsar, BusinessUnit unit)
      throws Exception {
    Pipeline pipeline = new Pipeline(pulsar.admin(), pulsar.projectDir(), System.out::println);
    new Provisioner(pulsar.admin(), System.out::println).provision(unit, pipeline.modelSlots());
    SinkDeployer sinks = new SinkDeployer(pulsar.admin(), System.out::println);
    for (SinkDeployer.Deployment d : pipeline.renderSinks(unit)) {
      assertThat(sinks.apply(d)).isEqualTo(FunctionDeployer.Outcome.CREATED);
    }
    pipeline.awaitRunning(unit, Duration.ofMinutes(3));
  }
}
