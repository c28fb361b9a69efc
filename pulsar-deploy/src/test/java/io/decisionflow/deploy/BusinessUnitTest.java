package io.decisionflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BusinessUnitTest {

  /** A valid unit; each invalid case changes one line of it. */
  private static final String VALID =
      """
      description: Test unit
      tenant: acme
      allowedClusters: [standalone]
      namespaces:
        - name: fraud
          policies:
            retentionMinutes: 60
            retentionSizeMb: 100
            deduplication: true
            schemaCompatibility: BACKWARD_TRANSITIVE
            backlogQuotaMb: 50
            backlogQuotaPolicy: producer_request_hold
      pipeline:
        namespace: fraud
        functions:
          decide:
            userConfig:
              threshold: 0.4
            parallelism: 2
      """;

  @TempDir Path dir;

  static Stream<Arguments> invalidUnits() {
    return Stream.of(
        Arguments.of("missing tenant", VALID.replace("tenant: acme\n", ""), "tenant", "<missing>"),
        Arguments.of(
            "bad tenant characters",
            VALID.replace("tenant: acme", "tenant: acme/corp"),
            "tenant",
            "acme/corp"),
        Arguments.of(
            "bad namespace characters",
            VALID.replace("- name: fraud", "- name: 'fr aud'"),
            "namespaces[0].name",
            "fr aud"),
        Arguments.of(
            "namespace without name",
            """
            tenant: acme
            namespaces:
              - policies: {retentionMinutes: 60}
            pipeline:
              namespace: fraud
            """,
            "namespaces[0].name",
            "<missing>"),
        Arguments.of(
            "empty namespace entry",
            """
            tenant: acme
            namespaces:
              -
            pipeline:
              namespace: fraud
            """,
            "namespaces[0]",
            "<missing>"),
        Arguments.of(
            "no namespaces",
            VALID.substring(0, VALID.indexOf("namespaces:"))
                + "namespaces: []\n"
                + VALID.substring(VALID.indexOf("pipeline:")),
            "namespaces",
            "[]"),
        Arguments.of("no clusters", VALID.replace("[standalone]", "[]"), "allowedClusters", "[]"),
        Arguments.of(
            "pipeline namespace not declared",
            VALID.replace("  namespace: fraud", "  namespace: risk"),
            "pipeline.namespace",
            "risk"),
        Arguments.of(
            "pipeline without namespace",
            VALID.replace("  namespace: fraud\n", ""),
            "pipeline.namespace",
            "<missing>"),
        Arguments.of(
            "bad schemaCompatibility",
            VALID.replace("BACKWARD_TRANSITIVE", "BACKWARDS"),
            "namespaces[0].policies.schemaCompatibility",
            "BACKWARDS"),
        Arguments.of(
            "bad backlogQuotaPolicy",
            VALID.replace("producer_request_hold", "drop_oldest"),
            "namespaces[0].policies.backlogQuotaPolicy",
            "drop_oldest"),
        Arguments.of(
            "empty backlogQuotaPolicy",
            VALID.replace("backlogQuotaPolicy: producer_request_hold", "backlogQuotaPolicy:"),
            "namespaces[0].policies.backlogQuotaPolicy",
            "<missing>"),
        Arguments.of(
            "backlogQuotaMb above retentionSizeMb",
            VALID.replace("backlogQuotaMb: 50", "backlogQuotaMb: 200"),
            "namespaces[0].policies.backlogQuotaMb",
            "200"),
        Arguments.of(
            "an input replicated",
            VALID.replace(
                "  namespace: fraud\n", "  namespace: fraud\n  replicatedTopics: [transactions]\n"),
            "pipeline.replicatedTopics[0]",
            "transactions"),
        Arguments.of(
            "retentionMinutes below -1",
            VALID.replace("retentionMinutes: 60", "retentionMinutes: -2"),
            "namespaces[0].policies.retentionMinutes",
            "-2"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidUnits")
  void anInvalidUnitIsRejectedNamingTheFileTheFieldAndTheValue(
      String problem, String yaml, String field, String value) throws Exception {
    // Given a unit file with one problem
    Path file = write("acme.yaml", yaml);

    // When it is loaded
    // Then it fails naming the file, the field and the value
    assertThatThrownBy(() -> BusinessUnit.load(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining(field)
        .hasMessageContaining(value);
  }

  @Test
  void anUnknownKeyIsRejectedNamingTheFileAndTheKey() throws Exception {
    // Given a unit file with a typo in a key
    Path file = write("acme.yaml", VALID.replace("tenant: acme", "tenat: acme"));

    // When it is loaded
    // Then it fails naming the file and the unknown key
    assertThatThrownBy(() -> BusinessUnit.load(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("tenat");
  }

  @Test
  void anUnknownPolicyKeyIsRejectedNamingTheKey() throws Exception {
    // Given a unit file with a typo in a namespace policy
    Path file = write("acme.yaml", VALID.replace("retentionMinutes: 60", "retentionMinuts: 60"));

    // When it is loaded
    // Then it fails naming the file and the unknown key
    assertThatThrownBy(() -> BusinessUnit.load(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("retentionMinuts");
  }

  @Test
  void aMissingFileIsRejectedNamingThePath() {
    // Given a path where there is no file
    Path file = dir.resolve("nowhere.yaml");

    // When it is loaded, directly or by name
    // Then it fails naming the path
    assertThatThrownBy(() -> BusinessUnit.load(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("does not exist");
    assertThatThrownBy(() -> BusinessUnit.load(dir, "nowhere"))
        .hasMessageContaining(file.toString());
  }

  @Test
  void aValidUnitLoadsWithItsSettings() throws Exception {
    // Given the valid unit file
    Path file = write("acme.yaml", VALID);

    // When it is loaded
    BusinessUnit unit = BusinessUnit.load(file);

    // Then its settings are read
    assertThat(unit.tenant).isEqualTo("acme");
    assertThat(unit.description).isEqualTo("Test unit");
    assertThat(unit.allowedClusters).containsExactly("standalone");
    assertThat(unit.namespaces).hasSize(1);
    BusinessUnit.Policies policies = unit.namespaces.get(0).policies;
    assertThat(policies.retentionMinutes).isEqualTo(60);
    assertThat(policies.retentionSizeMb).isEqualTo(100);
    assertThat(policies.deduplication).isTrue();
    assertThat(policies.schemaCompatibility).isEqualTo("BACKWARD_TRANSITIVE");
    assertThat(policies.backlogQuotaMb).isEqualTo(50);
    assertThat(unit.pipelineNamespace().toString()).isEqualTo("acme/fraud");
    assertThat(unit.function("decide").userConfig).containsEntry("threshold", 0.4);
    assertThat(unit.function("decide").parallelism).isEqualTo(2);
  }

  @Test
  void theNameDefaultsToTheFileName() throws Exception {
    // Given a unit file that does not set a name
    Path file = write("acme-cards.yaml", VALID);

    // When it is loaded, directly or by name
    BusinessUnit unit = BusinessUnit.load(file);
    BusinessUnit byName = BusinessUnit.load(dir, "acme-cards");

    // Then it is named as its file, without .yaml
    assertThat(unit.name).isEqualTo("acme-cards");
    assertThat(byName.name).isEqualTo("acme-cards");
  }

  @Test
  void aNameInTheFileIsKept() throws Exception {
    // Given a unit file that sets its name
    Path file = write("acme.yaml", "name: acme-eu\n" + VALID);

    // When it is loaded
    BusinessUnit unit = BusinessUnit.load(file);

    // Then that name is kept
    assertThat(unit.name).isEqualTo("acme-eu");
  }

  @Test
  void optionalSettingsHaveDefaults() throws Exception {
    // Given a unit file with only a tenant, a namespace without policies and the pipeline
    Path file =
        write(
            "minimal.yaml",
            """
            tenant: acme
            namespaces:
              - name: fraud
            pipeline:
              namespace: fraud
            """);

    // When it is loaded
    BusinessUnit unit = BusinessUnit.load(file);

    // Then clusters, policies and function settings have their defaults
    assertThat(unit.allowedClusters).containsExactly("standalone");
    assertThat(unit.adminRoles).isEmpty();
    assertThat(unit.namespaces.get(0).policies.backlogQuotaPolicy)
        .isEqualTo("producer_request_hold");
    assertThat(unit.namespaces.get(0).policies.retentionMinutes).isNull();
    assertThat(unit.function("decide").userConfig).isEmpty();
    assertThat(unit.function("decide").parallelism).isNull();
  }

  @Test
  void aFunctionListedWithoutSettingsHasNone() throws Exception {
    // Given a unit file that lists a function with nothing under it
    Path file =
        write(
            "acme.yaml",
            """
            tenant: acme
            namespaces:
              - name: fraud
            pipeline:
              namespace: fraud
              functions:
                decide:
                route:
                  userConfig:
            """);

    // When it is loaded
    BusinessUnit unit = BusinessUnit.load(file);

    // Then those functions have no settings
    assertThat(unit.function("decide").userConfig).isEmpty();
    assertThat(unit.function("decide").parallelism).isNull();
    assertThat(unit.function("route").userConfig).isEmpty();
  }

  @Test
  void keysWrittenWithNothingUnderThemMeanNone() throws Exception {
    // Given a unit file with empty adminRoles and pipeline functions
    Path file =
        write(
            "acme.yaml",
            """
            tenant: acme
            adminRoles:
            namespaces:
              - name: fraud
            pipeline:
              namespace: fraud
              functions:
            """);

    // When it is loaded
    BusinessUnit unit = BusinessUnit.load(file);

    // Then they are empty
    assertThat(unit.adminRoles).isEmpty();
    assertThat(unit.pipeline.functions).isEmpty();
    assertThat(unit.function("decide").userConfig).isEmpty();
  }

  @Test
  void theShippedUnitsReplicateTheirOutputsOnlyOnceOnMoreThanOneCluster() {
    // Given the shipped payments unit, on the one local standalone
    BusinessUnit unit =
        BusinessUnit.load(ShippedFiles.moduleDir().resolve("business-units"), "payments");
    assertThat(unit.pipeline.replicatedTopics)
        .containsExactly("decisions", "fraud-alerts", "dead-letters");
    assertThat(unit.geoReplicated()).isFalse();

    // When it is put on the two local regions
    unit.onClusters(java.util.List.of("us-east", "eu-west"));

    // Then its outputs replicate between them
    assertThat(unit.allowedClusters).containsExactly("us-east", "eu-west");
    assertThat(unit.geoReplicated()).isTrue();
  }

  @Test
  void clustersMustBeNamedOnceEach() throws Exception {
    BusinessUnit unit = BusinessUnit.load(write("acme.yaml", VALID));

    assertThatThrownBy(() -> unit.onClusters(java.util.List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("clusters must name at least one cluster");
    assertThatThrownBy(() -> unit.onClusters(java.util.List.of("us-east", "us-east")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("names a cluster twice: [us-east, us-east]");
    assertThat(unit.allowedClusters).containsExactly("standalone");
  }

  private Path write(String name, String yaml) throws Exception {
    return Files.writeString(dir.resolve(name), yaml);
  }
}
