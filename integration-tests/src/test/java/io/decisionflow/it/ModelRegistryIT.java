package io.decisionflow.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.LocalModelStore;
import io.decisionflow.deploy.ModelRegistry;
import io.decisionflow.deploy.Provisioner;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.control.ModelDeployment;
import io.decisionflow.stages.enrich.FeatureSpec;
import io.decisionflow.stages.score.ModelDigest;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Publishing models to a business unit's slots through its {@code models} control topic. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ModelRegistryIT {

  @TempDir Path store;

  @Test
  void aPublishedModelIsStoredOnceAndBecomesTheCurrentModelOfItsSlot() throws Exception {
    // Given a provisioned business unit and the model the build trained
    PulsarStandalone pulsar = PulsarStandalone.get();
    BusinessUnit unit = TestUnits.isolated(pulsar.projectDir(), "payments");
    BusinessNamespace ns = unit.pipelineNamespace();
    new Provisioner(pulsar.admin(), System.out::println).provision(unit, List.of("champion"));
    ModelRegistry registry = new ModelRegistry(pulsar.client(), System.out::println);
    LocalModelStore models = new LocalModelStore(store);

    // When it is published to champion, then again, and to challenger
    ModelDeployment first = registry.publish(ns, "champion", pulsar.model(), models, "it");
    registry.publish(ns, "champion", pulsar.model(), models, "it-again");
    registry.publish(ns, "challenger", pulsar.model(), models, "it");
    Map<String, ModelDeployment> current = registry.current(ns);

    // Then each slot has one current deployment, the newest, pointing at one stored copy
    assertThat(current).containsOnlyKeys("champion", "challenger");
    ModelDeployment champion = current.get("champion");
    assertThat(champion.getAnnouncedBy()).isEqualTo("it-again");
    assertThat(champion.getModelName()).isEqualTo("fraud");
    assertThat(champion.getModelVersion()).isEqualTo("v1");
    assertThat(champion.getFeatureSpecVersion()).isEqualTo(FeatureSpec.VERSION);
    assertThat(champion.getUri()).isEqualTo(first.getUri());
    Path stored = Path.of(URI.create(champion.getUri()));
    assertThat(stored).isEqualTo(store.resolve("fraud/v1"));
    assertThat(champion.getSha256())
        .isEqualTo(ModelDigest.of(stored))
        .isEqualTo(ModelDigest.of(pulsar.model()));
    try (var versions = Files.list(store.resolve("fraud"))) {
      assertThat(versions.map(p -> p.getFileName().toString())).containsExactly("v1");
    }
  }
}
