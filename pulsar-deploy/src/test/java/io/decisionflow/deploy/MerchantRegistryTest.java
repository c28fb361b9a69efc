package io.decisionflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.reference.MerchantRisk;
import java.util.List;
import org.junit.jupiter.api.Test;

class MerchantRegistryTest {

  private static final BusinessNamespace NS = new BusinessNamespace("payments", "fraud");

  private static MerchantRisk row(String id, double risk) {
    return MerchantRisk.newBuilder().setMerchantId(id).setRisk(risk).build();
  }

  @Test
  void aBadRowIsRefusedBeforeAnythingIsPublished() {
    // Given a registry without a cluster: publishing anything would fail on it
    MerchantRegistry registry = new MerchantRegistry(null, line -> {});
    List<MerchantRegistry.Change> changes =
        List.of(
            MerchantRegistry.Change.upsert(row("merchant-1", 0.5)),
            MerchantRegistry.Change.upsert(row("merchant-2", 1.7)));

    // When / Then
    assertThatThrownBy(() -> registry.publish(NS, changes))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("merchant 'merchant-2': risk must be in [0, 1], was 1.7");
    assertThatThrownBy(
            () ->
                registry.publish(
                    NS, List.of(new MerchantRegistry.Change("merchant-3", row("merchant-4", 0.1)))))
        .hasMessage("merchant 'merchant-3': the row names merchant 'merchant-4'");
  }

  @Test
  void changesSetTheRowsThenDeleteTheOthers() {
    List<MerchantRegistry.Change> changes =
        MerchantRegistry.changes(List.of(row("a", 0.1), row("b", 0.2)), List.of("c"));

    assertThat(changes)
        .extracting(MerchantRegistry.Change::merchantId)
        .containsExactly("a", "b", "c");
    assertThat(changes)
        .extracting(MerchantRegistry.Change::deletes)
        .containsExactly(false, false, true);
  }
}
