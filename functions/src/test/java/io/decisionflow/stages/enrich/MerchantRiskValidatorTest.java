package io.decisionflow.stages.enrich;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.schemas.reference.MerchantRisk;
import io.decisionflow.stages.InvalidRecordException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MerchantRiskValidatorTest {

  private static MerchantRisk row(String merchantId, double risk) {
    return MerchantRisk.newBuilder().setMerchantId(merchantId).setRisk(risk).build();
  }

  @ParameterizedTest(name = "risk {0} is accepted")
  @CsvSource({"0.0", "0.37", "1.0"})
  void acceptsARiskInTheClosedUnitInterval(double risk) {
    MerchantRisk row = row("merchant-1", risk);

    assertThat(MerchantRiskValidator.validate(row)).isSameAs(row);
  }

  @ParameterizedTest(name = "risk {0} is refused")
  @CsvSource({"1.7, 1.7", "-0.1, -0.1", "NaN, NaN", "Infinity, Infinity"})
  void refusesARiskOutsideTheUnitIntervalNamingTheFieldAndValue(double risk, String shown) {
    assertThatThrownBy(() -> MerchantRiskValidator.validate(row("merchant-1", risk)))
        .isInstanceOf(InvalidRecordException.class)
        .hasMessage("risk must be in [0, 1], was " + shown)
        .satisfies(e -> assertThat(((InvalidRecordException) e).field()).isEqualTo("risk"));
  }

  @Test
  void refusesAnEmptyMerchantId() {
    assertThatThrownBy(() -> MerchantRiskValidator.validate(row("", 0.5)))
        .isInstanceOf(InvalidRecordException.class)
        .hasMessage("merchant_id is required, was <empty>");
    assertThatThrownBy(() -> MerchantRiskValidator.validate(row("  ", 0.5)))
        .hasMessage("merchant_id is required, was '  '");
  }

  @Test
  void anInMemoryTableHoldsOnlyValidRowsAndForgetsDeletedMerchants() {
    // Given
    InMemoryMerchantRisks table = InMemoryMerchantRisks.of(Map.of("a", 0.1, "b", 0.9));

    // When / Then
    assertThat(table.risk("a")).hasValue(0.1);
    assertThat(table.risk("c")).isEmpty();
    assertThat(table.risk(null)).isEmpty();
    assertThatThrownBy(() -> table.put("a", 1.5)).hasMessage("risk must be in [0, 1], was 1.5");
    assertThat(table.risk("a")).hasValue(0.1);
    assertThat(table.remove("b")).isTrue();
    assertThat(table.remove("b")).isFalse();
    assertThat(table.size()).isEqualTo(1);
    assertThat(table.snapshot()).containsExactly(Map.entry("a", 0.1));
  }
}
