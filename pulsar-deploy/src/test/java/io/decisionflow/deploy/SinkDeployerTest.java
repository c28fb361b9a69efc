package io.decisionflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.stages.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.pulsar.common.io.SinkConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SinkDeployerTest {

  private static final Map<String, String> ENV =
      Map.of("DF_POSTGRES_USER", "decisionflow", "DF_POSTGRES_PASSWORD", "s3cret");

  @TempDir Path project;

  private BusinessUnit payments;
  private SinkConfig postgres;

  @BeforeEach
  void projectWithFakeArchives() {
    ShippedFiles.project(project);
    payments = ShippedFiles.unit("payments");
    payments.tenant = "bank-eu";
    postgres = SinkDeployer.read(ShippedFiles.sinksDir().resolve("decisions-postgres.yaml"));
  }

  @Test
  void renderMovesTheSinkAndItsTopicsToTheUnitsNamespace() {
    SinkConfig config = render(settings()).config();

    assertThat(config.getTenant()).isEqualTo("bank-eu");
    assertThat(config.getNamespace()).isEqualTo("fraud");
    assertThat(config.getInputs()).containsExactly("persistent://bank-eu/fraud/decisions");
    assertThat(config.getInputSpecs()).containsOnlyKeys("persistent://bank-eu/fraud/decisions");
    assertThat(config.getArchive())
        .isEqualTo(project.resolve(postgres.getArchive()).normalize().toString());
  }

  @Test
  void renderMergesTheUnitsConfigsOverTheFile() {
    SinkConfig config = render(settings()).config();

    // From the unit file
    assertThat(config.getConfigs())
        .containsEntry("jdbcUrl", "jdbc:postgresql://127.0.0.1:5432/decisionflow");
    // From the sink file, untouched
    assertThat(config.getConfigs())
        .containsEntry("tableName", "decisions")
        .containsEntry("batchSize", 500);
  }

  @Test
  void secretsComeFromTheEnvironmentAndNeverFromConfigs() {
    SinkConfig config = render(settings()).config();

    assertThat(config.getSecrets())
        .containsEntry("userName", "decisionflow")
        .containsEntry("password", "s3cret");
    assertThat(config.getConfigs()).doesNotContainKeys("userName", "password");
  }

  @Test
  void byNameTheSecretsAreTheVariablesNamesNotTheirValues() {
    // Given a worker whose secrets provider reads its own environment
    payments.secretsByName = true;

    // When the sink is rendered where no variable is set
    SinkConfig config =
        SinkDeployer.render(postgres, payments, settings(), project, name -> null).config();

    // Then its secrets name the variables, and no value is anywhere in the config
    assertThat(config.getSecrets())
        .containsExactly(
            Map.entry("userName", "DF_POSTGRES_USER"),
            Map.entry("password", "DF_POSTGRES_PASSWORD"));
    assertThat(config.getConfigs()).doesNotContainKeys("userName", "password");
  }

  @Test
  void aMissingSecretFailsNamingTheSinkTheSecretAndTheVariable() {
    BusinessUnit.SinkSettings settings = settings();

    assertThatThrownBy(
            () ->
                SinkDeployer.render(
                    postgres, payments, settings, project, Map.of("DF_POSTGRES_USER", "u")::get))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "sink decisions-postgres of payments: secret password comes from the environment"
                + " variable DF_POSTGRES_PASSWORD, which is not set: export it before deploying");
  }

  @Test
  void aMissingArchiveSaysToBuildFirst() throws Exception {
    Files.delete(project.resolve(postgres.getArchive()));

    assertThatThrownBy(() -> render(settings()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("sink decisions-postgres of payments: connector archive not found")
        .hasMessageContaining("build it first (mvn package)");
  }

  @Test
  void theArchivesChecksumGoesIntoTheRuntimeFlagsSoThatNewCodeRedeploys() throws Exception {
    String before = render(settings()).config().getRuntimeFlags();
    ShippedFiles.writeFakeJar(project.resolve(postgres.getArchive()), "another build");
    String after = render(settings()).config().getRuntimeFlags();

    assertThat(before).startsWith(SinkDeployer.DEPLOYMENT_FLAG);
    assertThat(after).startsWith(SinkDeployer.DEPLOYMENT_FLAG).isNotEqualTo(before);
  }

  @Test
  void differencesIgnoreWhatTheWorkerFillsInButSeeAChangedConfig() {
    SinkConfig wanted = render(settings()).config();
    SinkConfig same = render(settings()).config();
    same.setArchive("/worker/download/copy.nar");
    same.setAutoAck(true);

    assertThat(SinkDeployer.differences(wanted, same)).isEmpty();

    SinkConfig changed = render(settings()).config();
    changed.getConfigs().put("batchSize", 10);
    assertThat(SinkDeployer.differences(wanted, changed)).containsExactly("configs");
  }

  @Test
  void aUnitThatNamesAnUnknownSinkIsRefused() {
    payments.pipeline.sinks.put("decisions-oracle", new BusinessUnit.SinkSettings());
    Pipeline pipeline = new Pipeline(null, project, line -> {});

    assertThatThrownBy(() -> pipeline.renderSinks(payments))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("payments: pipeline.sinks.decisions-oracle: no sink config named")
        .hasMessageContaining("there are: ")
        .hasMessageContaining("decisions-postgres");
  }

  private BusinessUnit.SinkSettings settings() {
    return payments.pipeline.sinks.get("decisions-postgres");
  }

  private SinkDeployer.Deployment render(BusinessUnit.SinkSettings settings) {
    return SinkDeployer.render(postgres, payments, settings, project, ENV::get);
  }
}
