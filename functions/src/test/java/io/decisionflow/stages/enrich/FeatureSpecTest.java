package io.decisionflow.stages.enrich;

import static io.decisionflow.stages.Fixtures.transaction;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.state.CardState;
import java.time.Instant;
import java.util.Map;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FeatureSpecTest {

  private static final Offset<Float> FLOAT = within(1e-5f);

  /** The merchant table of these tests: the fixture's merchant-1 at risk 0.25. */
  private static final MerchantRisks MERCHANTS =
      InMemoryMerchantRisks.of(Map.of("merchant-1", 0.25, "merchant-safe", 0.0));

  private static final int AMOUNT_LOG = 0;
  private static final int AMOUNT_TO_CARD_MEAN = 1;
  private static final int CARD_TXN_COUNT_LOG = 2;
  private static final int SECONDS_SINCE_LAST_LOG = 3;
  private static final int IS_ONLINE = 4;
  private static final int IS_ATM = 5;
  private static final int IS_NIGHT = 6;
  private static final int IS_HIGH_RISK_COUNTRY = 7;
  private static final int MERCHANT_RISK = 18;
  private static final int MERCHANT_UNKNOWN = 19;

  private static long at(String instant) {
    return Instant.parse(instant).toEpochMilli();
  }

  @Test
  void namesTheEightV1FeaturesFirstThenTheEventTimeFeaturesThenTheMerchantFeatures() {
    assertThat(FeatureSpec.VERSION).isEqualTo("v3");
    assertThat(FeatureSpec.size()).isEqualTo(20);
    assertThat(FeatureSpec.MERCHANT_FEATURES_OFFSET).isEqualTo(MERCHANT_RISK);
    assertThat(FeatureSpec.NAMES)
        .containsExactly(
            "amount_log",
            "amount_to_card_mean",
            "card_txn_count_log",
            "seconds_since_last_log",
            "is_online",
            "is_atm",
            "is_night",
            "is_high_risk_country",
            "txn_count_5m",
            "txn_count_1h",
            "txn_count_24h",
            "amount_sum_5m_log",
            "amount_sum_1h_log",
            "amount_sum_24h_log",
            "max_amount_24h_log",
            "distinct_merchants_1h",
            "amount_zscore",
            "country_changed",
            "merchant_risk",
            "merchant_unknown");
  }

  @Test
  void computesFeaturesOfANewCard() {
    // Given: 100 EUR at a POS in Germany at noon, on a card never seen
    Transaction txn =
        transaction().setAmount(100.0).setEventTimeMs(at("2025-03-14T12:00:00Z")).build();

    // When
    float[] features = FeatureSpec.compute(txn, CardState.getDefaultInstance(), MERCHANTS);

    // Then
    assertThat(features).hasSize(20);
    assertThat(features[AMOUNT_LOG]).isCloseTo(4.615121f, FLOAT); // ln(101)
    assertThat(features[AMOUNT_TO_CARD_MEAN]).isEqualTo(1f); // new card
    assertThat(features[CARD_TXN_COUNT_LOG]).isEqualTo(0f); // ln(1 + 0)
    assertThat(features[SECONDS_SINCE_LAST_LOG]).isCloseTo(14.767941f, FLOAT); // ln(1 + 30 days)
    assertThat(features[IS_ONLINE]).isEqualTo(0f);
    assertThat(features[IS_ATM]).isEqualTo(0f);
    assertThat(features[IS_NIGHT]).isEqualTo(0f);
    assertThat(features[IS_HIGH_RISK_COUNTRY]).isEqualTo(0f);
    for (int i = 8; i < 18; i++) {
      assertThat(features[i]).as(FeatureSpec.NAMES.get(i)).isEqualTo(0f); // nothing before it
    }
    assertThat(features[MERCHANT_RISK]).isEqualTo(0.25f); // merchant-1 in the table
    assertThat(features[MERCHANT_UNKNOWN]).isEqualTo(0f);
  }

  @Test
  void merchantFeaturesComeFromTheTable() {
    // Given a merchant with risk 0.25, one with risk 0, and one not in the table
    Transaction known = transaction().setMerchantId("merchant-1").build();
    Transaction safe = transaction().setMerchantId("merchant-safe").build();
    Transaction unknown = transaction().setMerchantId("merchant-404").build();
    CardState prior = CardState.getDefaultInstance();

    // When / Then: risk 0 and unknown differ only in merchant_unknown
    assertThat(FeatureSpec.compute(known, prior, MERCHANTS)[MERCHANT_RISK]).isEqualTo(0.25f);
    assertThat(FeatureSpec.compute(known, prior, MERCHANTS)[MERCHANT_UNKNOWN]).isEqualTo(0f);
    assertThat(FeatureSpec.compute(safe, prior, MERCHANTS)[MERCHANT_RISK]).isEqualTo(0f);
    assertThat(FeatureSpec.compute(safe, prior, MERCHANTS)[MERCHANT_UNKNOWN]).isEqualTo(0f);
    assertThat(FeatureSpec.compute(unknown, prior, MERCHANTS)[MERCHANT_RISK]).isEqualTo(0f);
    assertThat(FeatureSpec.compute(unknown, prior, MERCHANTS)[MERCHANT_UNKNOWN]).isEqualTo(1f);
    assertThat(FeatureSpec.compute(known, prior, MerchantRisks.NONE)[MERCHANT_UNKNOWN])
        .isEqualTo(1f);
  }

  @Test
  void theMerchantTableChangesNoFeatureButTheMerchantOnesAndNothingOfTheStateButLastFeatures() {
    // Given a card with some history, and two tables that rate merchant-1 differently
    CardState prior = CardState.getDefaultInstance();
    for (int i = 0; i < 5; i++) {
      prior =
          FeatureSpec.apply(
              prior,
              transaction()
                  .setTransactionId("t" + i)
                  .setAmount(10 + i)
                  .setEventTimeMs(at("2025-03-14T11:00:00Z") + i * 60_000L)
                  .build(),
              MERCHANTS);
    }
    Transaction txn = transaction().setTransactionId("t9").build();
    MerchantRisks riskier = InMemoryMerchantRisks.of(Map.of("merchant-1", 0.9));

    // When
    float[] before = FeatureSpec.compute(txn, prior, MERCHANTS);
    float[] after = FeatureSpec.compute(txn, prior, riskier);

    // Then the v2 features are equal, the merchant's risk follows the table
    for (int i = 0; i < FeatureSpec.MERCHANT_FEATURES_OFFSET; i++) {
      assertThat(after[i]).as(FeatureSpec.NAMES.get(i)).isEqualTo(before[i]);
    }
    assertThat(after[MERCHANT_RISK]).isEqualTo(0.9f);
    // and the card's next state differs only in the features recorded for the transaction
    assertThat(FeatureSpec.apply(prior, txn, riskier).toBuilder().clearLastFeatures().build())
        .isEqualTo(
            FeatureSpec.apply(prior, txn, MERCHANTS).toBuilder().clearLastFeatures().build());
  }

  @Test
  void computesFeaturesOfACardWithPriorState() {
    // Given: 4 transactions summing to 200 (mean 50), the newest 90 s before this one
    CardState prior =
        CardState.newBuilder()
            .setCount(4)
            .setAmountSum(200.0)
            .setLastEventTimeMs(at("2025-03-14T03:28:30Z"))
            .setLastTransactionId("txn-4")
            .build();
    // and 150 online at a Nigerian merchant at 03:30 UTC
    Transaction txn =
        transaction()
            .setTransactionId("txn-5")
            .setAmount(150.0)
            .setChannel(Channel.ONLINE)
            .setCountry("NG")
            .setEventTimeMs(at("2025-03-14T03:30:00Z"))
            .build();

    // When
    float[] features = FeatureSpec.compute(txn, prior, MERCHANTS);

    // Then
    assertThat(features[AMOUNT_LOG]).isCloseTo(5.017280f, FLOAT); // ln(151)
    assertThat(features[AMOUNT_TO_CARD_MEAN]).isCloseTo(3f, FLOAT); // 150 / 50
    assertThat(features[CARD_TXN_COUNT_LOG]).isCloseTo(1.609438f, FLOAT); // ln(1 + 4)
    assertThat(features[SECONDS_SINCE_LAST_LOG]).isCloseTo(4.510860f, FLOAT); // ln(1 + 90)
    assertThat(features[IS_ONLINE]).isEqualTo(1f);
    assertThat(features[IS_ATM]).isEqualTo(0f);
    assertThat(features[IS_NIGHT]).isEqualTo(1f);
    assertThat(features[IS_HIGH_RISK_COUNTRY]).isEqualTo(1f);
  }

  @Test
  void flagsAtmChannelOnly() {
    // Given
    Transaction atm = transaction().setChannel(Channel.ATM).build();

    // When
    float[] features = FeatureSpec.compute(atm, CardState.getDefaultInstance(), MERCHANTS);

    // Then
    assertThat(features[IS_ATM]).isEqualTo(1f);
    assertThat(features[IS_ONLINE]).isEqualTo(0f);
  }

  @ParameterizedTest(name = "{0} is night: {1}")
  @CsvSource({
    "2025-03-14T00:00:00Z, 1",
    "2025-03-14T05:59:59.999Z, 1",
    "2025-03-14T06:00:00Z, 0",
    "2025-03-14T23:59:59.999Z, 0"
  })
  void flagsNightBetweenMidnightAndSixUtc(String eventTime, float expected) {
    // Given
    Transaction txn = transaction().setEventTimeMs(at(eventTime)).build();

    // When
    float[] features = FeatureSpec.compute(txn, CardState.getDefaultInstance(), MERCHANTS);

    // Then
    assertThat(features[IS_NIGHT]).isEqualTo(expected);
  }

  @ParameterizedTest(name = "country {0} is high risk: {1}")
  @CsvSource({"NG, 1", "RU, 1", "BR, 1", "ID, 1", "VN, 1", "UA, 1", "DE, 0", "US, 0"})
  void flagsHighRiskCountriesOfTheSpec(String country, float expected) {
    // Given
    Transaction txn = transaction().setCountry(country).build();

    // When
    float[] features = FeatureSpec.compute(txn, CardState.getDefaultInstance(), MERCHANTS);

    // Then
    assertThat(features[IS_HIGH_RISK_COUNTRY]).isEqualTo(expected);
  }

  @Test
  void capsAmountToCardMeanRatioAtOneHundred() {
    // Given: a card whose mean is 1, and a transaction of 1000
    CardState prior =
        CardState.newBuilder().setCount(1).setAmountSum(1.0).setLastEventTimeMs(1L).build();
    Transaction txn = transaction().setAmount(1000.0).build();

    // When
    float[] features = FeatureSpec.compute(txn, prior, MERCHANTS);

    // Then
    assertThat(features[AMOUNT_TO_CARD_MEAN]).isEqualTo(100f);
  }

  @Test
  void ratioIsOneWhenTheCardsMeanIsZero() {
    // Given: a card that only saw transactions of 0
    CardState prior =
        CardState.newBuilder().setCount(2).setAmountSum(0.0).setLastEventTimeMs(1L).build();
    Transaction txn = transaction().setAmount(30.0).build();

    // When
    float[] features = FeatureSpec.compute(txn, prior, MERCHANTS);

    // Then
    assertThat(features[AMOUNT_TO_CARD_MEAN]).isEqualTo(1f);
  }

  @Test
  void outOfOrderEventHasGapZero() {
    // Given: the card's newest event is a minute after this one
    long eventTime = at("2025-03-14T12:00:00Z");
    CardState prior =
        CardState.newBuilder()
            .setCount(3)
            .setAmountSum(300.0)
            .setLastEventTimeMs(eventTime + 60_000)
            .build();
    Transaction txn = transaction().setEventTimeMs(eventTime).build();

    // When
    float[] features = FeatureSpec.compute(txn, prior, MERCHANTS);

    // Then
    assertThat(features[SECONDS_SINCE_LAST_LOG]).isEqualTo(0f);
  }

  @Test
  void writesFeaturesAtTheOffsetOfABatch() {
    // Given
    Transaction txn = transaction().build();
    float[] batch = new float[3 * FeatureSpec.size()];

    // When
    FeatureSpec.compute(txn, CardState.getDefaultInstance(), MERCHANTS, batch, FeatureSpec.size());

    // Then
    float[] expected = FeatureSpec.compute(txn, CardState.getDefaultInstance(), MERCHANTS);
    for (int i = 0; i < FeatureSpec.size(); i++) {
      assertThat(batch[i]).isEqualTo(0f);
      assertThat(batch[FeatureSpec.size() + i]).isEqualTo(expected[i]);
      assertThat(batch[2 * FeatureSpec.size() + i]).isEqualTo(0f);
    }
  }

  @Test
  void applyAccumulatesCountAndSumAndRecordsTheFeaturesItGave() {
    // Given: a card with 4 transactions summing to 200, written by spec v1 with a previous state
    CardState older = CardState.newBuilder().setCount(3).setAmountSum(150.0).build();
    CardState prior =
        CardState.newBuilder()
            .setCount(4)
            .setAmountSum(200.0)
            .setLastEventTimeMs(1_000L)
            .setLastTransactionId("txn-4")
            .setPrevious(older)
            .build();
    Transaction txn = transaction().setTransactionId("txn-5").setAmount(150.0).build();

    // When
    CardState next = FeatureSpec.apply(prior, txn, MERCHANTS);

    // Then
    assertThat(next.getCount()).isEqualTo(5);
    assertThat(next.getAmountSum()).isEqualTo(350.0);
    assertThat(next.getLastEventTimeMs()).isEqualTo(txn.getEventTimeMs());
    assertThat(next.getLastTransactionId()).isEqualTo("txn-5");
    assertThat(next.getRecentTransactionIdsList()).containsExactly("txn-5");
    assertThat(next.getLastFeaturesList())
        .containsExactly(toObjects(FeatureSpec.compute(txn, prior, MERCHANTS)));
    assertThat(next.hasPrevious()).as("previous is no longer written").isFalse();
    // The running mean of a v1 state starts from its amount sum over its count: 50, then 70.
    assertThat(next.getAmountMean()).isEqualTo(70.0);
  }

  private static Float[] toObjects(float[] values) {
    Float[] out = new Float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return out;
  }

  @Test
  void applyOfAnOutOfOrderEventKeepsTheNewestEventTime() {
    // Given
    long newest = at("2025-03-14T12:00:00Z");
    CardState prior = CardState.newBuilder().setCount(1).setLastEventTimeMs(newest).build();
    Transaction late = transaction().setEventTimeMs(newest - 60_000).build();

    // When
    CardState next = FeatureSpec.apply(prior, late, MERCHANTS);

    // Then
    assertThat(next.getLastEventTimeMs()).isEqualTo(newest);
    assertThat(next.getCount()).isEqualTo(2);
  }

  @Test
  void applyToANewCardStartsFromItsFirstTransaction() {
    // Given
    Transaction txn = transaction().setTransactionId("txn-1").setAmount(12.5).build();

    // When
    CardState next = FeatureSpec.apply(CardState.getDefaultInstance(), txn, MERCHANTS);

    // Then
    assertThat(next.getCount()).isEqualTo(1);
    assertThat(next.getAmountSum()).isEqualTo(12.5);
    assertThat(next.getLastEventTimeMs()).isEqualTo(txn.getEventTimeMs());
    assertThat(next.getLastTransactionId()).isEqualTo("txn-1");
    assertThat(next.getAmountMean()).isEqualTo(12.5);
    assertThat(next.getAmountM2()).isEqualTo(0.0);
    assertThat(next.getLastCountry()).isEqualTo(txn.getCountry());
  }
}
