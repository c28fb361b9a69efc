package io.decisionflow.stages.score;

import static io.decisionflow.stages.score.FallbackRules.AMOUNT_LOG;
import static io.decisionflow.stages.score.FallbackRules.AMOUNT_TO_CARD_MEAN;
import static io.decisionflow.stages.score.FallbackRules.BASE;
import static io.decisionflow.stages.score.FallbackRules.CARD_TXN_COUNT_LOG;
import static io.decisionflow.stages.score.FallbackRules.IS_ATM;
import static io.decisionflow.stages.score.FallbackRules.IS_HIGH_RISK_COUNTRY;
import static io.decisionflow.stages.score.FallbackRules.IS_NIGHT;
import static io.decisionflow.stages.score.FallbackRules.IS_ONLINE;
import static io.decisionflow.stages.score.FallbackRules.LARGE_AMOUNT_WEIGHT;
import static io.decisionflow.stages.score.FallbackRules.MERCHANT_RISK_WEIGHT;
import static io.decisionflow.stages.score.FallbackRules.RATIO_EXTREME_WEIGHT;
import static io.decisionflow.stages.score.FallbackRules.RATIO_HIGH_WEIGHT;
import static io.decisionflow.stages.score.FallbackRules.REMOTE_AT_NIGHT_WEIGHT;
import static io.decisionflow.stages.score.FallbackRules.SECONDS_SINCE_LAST_LOG;
import static io.decisionflow.stages.score.FallbackRules.VELOCITY_WEIGHT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.state.CardState;
import io.decisionflow.stages.enrich.FeatureSpec;
import io.decisionflow.stages.enrich.MerchantRisks;
import java.util.Arrays;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class FallbackRulesTest {

  private static final Offset<Float> EPS = within(1e-6f);

  /** 2026-01-01T12:00:00Z: daytime. */
  private static final long NOON_MS = 1_767_268_800_000L;

  /** 2026-01-01T02:00:00Z: night. */
  private static final long NIGHT_MS = 1_767_232_800_000L;

  /**
   * A row that fires no rule: 50.00 at a POS in the daytime, at the card's mean, an hour after the
   * card's previous transaction, at a domestic merchant.
   */
  static float[] quietRow() {
    float[] row = new float[FeatureSpec.size()];
    row[AMOUNT_LOG] = (float) Math.log1p(50);
    row[AMOUNT_TO_CARD_MEAN] = 1f;
    row[CARD_TXN_COUNT_LOG] = (float) Math.log1p(10);
    row[SECONDS_SINCE_LAST_LOG] = (float) Math.log1p(3600);
    return row;
  }

  private static float[] with(int feature, double value) {
    float[] row = quietRow();
    row[feature] = (float) value;
    return row;
  }

  @Test
  void positionsAreLookedUpByNameInTheFeatureSpec() {
    assertThat(FeatureSpec.VERSION).isEqualTo("v3");
    assertThat(FallbackRules.WIDTH).isEqualTo(20);
    assertThat(FeatureSpec.NAMES.indexOf("amount_log")).isEqualTo(AMOUNT_LOG);
    assertThat(FeatureSpec.NAMES.indexOf("amount_to_card_mean")).isEqualTo(AMOUNT_TO_CARD_MEAN);
    assertThat(FeatureSpec.NAMES.indexOf("card_txn_count_log")).isEqualTo(CARD_TXN_COUNT_LOG);
    assertThat(FeatureSpec.NAMES.indexOf("seconds_since_last_log"))
        .isEqualTo(SECONDS_SINCE_LAST_LOG);
    assertThat(FeatureSpec.NAMES.indexOf("is_online")).isEqualTo(IS_ONLINE);
    assertThat(FeatureSpec.NAMES.indexOf("is_atm")).isEqualTo(IS_ATM);
    assertThat(FeatureSpec.NAMES.indexOf("is_night")).isEqualTo(IS_NIGHT);
    assertThat(FeatureSpec.NAMES.indexOf("is_high_risk_country")).isEqualTo(IS_HIGH_RISK_COUNTRY);
  }

  @Test
  void aRowThatFiresNoRuleScoresTheBase() {
    assertThat(FallbackRules.score(quietRow())).isCloseTo(BASE, EPS);
  }

  @Test
  void amountFarAboveTheCardMeanAddsTheHighWeight() {
    assertThat(FallbackRules.score(with(AMOUNT_TO_CARD_MEAN, 4.99))).isCloseTo(BASE, EPS);
    assertThat(FallbackRules.score(with(AMOUNT_TO_CARD_MEAN, 5)))
        .isCloseTo(BASE + RATIO_HIGH_WEIGHT, EPS);
    assertThat(FallbackRules.score(with(AMOUNT_TO_CARD_MEAN, 9.99)))
        .isCloseTo(BASE + RATIO_HIGH_WEIGHT, EPS);
  }

  @Test
  void amountVeryFarAboveTheCardMeanAddsTheExtremeWeightInsteadOfTheHighOne() {
    assertThat(FallbackRules.score(with(AMOUNT_TO_CARD_MEAN, 10)))
        .isCloseTo(BASE + RATIO_EXTREME_WEIGHT, EPS);
    assertThat(FallbackRules.score(with(AMOUNT_TO_CARD_MEAN, 100)))
        .isCloseTo(BASE + RATIO_EXTREME_WEIGHT, EPS);
  }

  @Test
  void largeAmountAddsItsWeightFromOneThousand() {
    assertThat(FallbackRules.score(with(AMOUNT_LOG, Math.log1p(999)))).isCloseTo(BASE, EPS);
    assertThat(FallbackRules.score(with(AMOUNT_LOG, Math.log1p(1000))))
        .isCloseTo(BASE + LARGE_AMOUNT_WEIGHT, EPS);
    assertThat(FallbackRules.score(with(AMOUNT_LOG, Math.log1p(250_000))))
        .isCloseTo(BASE + LARGE_AMOUNT_WEIGHT, EPS);
  }

  @Test
  void velocityAddsItsWeightUnderTwoMinutesSinceThePreviousTransaction() {
    assertThat(FallbackRules.score(with(SECONDS_SINCE_LAST_LOG, Math.log1p(119))))
        .isCloseTo(BASE + VELOCITY_WEIGHT, EPS);
    assertThat(FallbackRules.score(with(SECONDS_SINCE_LAST_LOG, 0)))
        .as("an out-of-order event counts as 0 s")
        .isCloseTo(BASE + VELOCITY_WEIGHT, EPS);
    assertThat(FallbackRules.score(with(SECONDS_SINCE_LAST_LOG, Math.log1p(120))))
        .isCloseTo(BASE, EPS);
    assertThat(FallbackRules.score(with(SECONDS_SINCE_LAST_LOG, Math.log1p(30 * 24 * 3600.0))))
        .as("a new card")
        .isCloseTo(BASE, EPS);
  }

  @Test
  void highRiskMerchantCountryAddsTheMerchantRiskWeight() {
    assertThat(FallbackRules.score(with(IS_HIGH_RISK_COUNTRY, 1)))
        .isCloseTo(BASE + MERCHANT_RISK_WEIGHT, EPS);
  }

  @Test
  void onlineOrAtmAtNightAddsTheRemoteAtNightWeight() {
    float[] onlineAtNight = with(IS_NIGHT, 1);
    onlineAtNight[IS_ONLINE] = 1;
    float[] atmAtNight = with(IS_NIGHT, 1);
    atmAtNight[IS_ATM] = 1;

    assertThat(FallbackRules.score(onlineAtNight)).isCloseTo(BASE + REMOTE_AT_NIGHT_WEIGHT, EPS);
    assertThat(FallbackRules.score(atmAtNight)).isCloseTo(BASE + REMOTE_AT_NIGHT_WEIGHT, EPS);
    assertThat(FallbackRules.score(with(IS_NIGHT, 1))).as("POS at night").isCloseTo(BASE, EPS);
    assertThat(FallbackRules.score(with(IS_ONLINE, 1))).as("online by day").isCloseTo(BASE, EPS);
    assertThat(FallbackRules.score(with(IS_ATM, 1))).as("ATM by day").isCloseTo(BASE, EPS);
  }

  @Test
  void rulesAddUp() {
    float[] row = with(AMOUNT_TO_CARD_MEAN, 6);
    row[IS_HIGH_RISK_COUNTRY] = 1;

    assertThat(FallbackRules.score(row))
        .isCloseTo(BASE + RATIO_HIGH_WEIGHT + MERCHANT_RISK_WEIGHT, EPS)
        .isCloseTo(0.6f, EPS);
  }

  @Test
  void aRowThatFiresEveryRuleIsClampedToOne() {
    float[] row = quietRow();
    row[AMOUNT_LOG] = (float) Math.log1p(5000);
    row[AMOUNT_TO_CARD_MEAN] = 50;
    row[SECONDS_SINCE_LAST_LOG] = (float) Math.log1p(10);
    row[IS_ONLINE] = 1;
    row[IS_NIGHT] = 1;
    row[IS_HIGH_RISK_COUNTRY] = 1;

    assertThat(
            BASE
                + RATIO_EXTREME_WEIGHT
                + LARGE_AMOUNT_WEIGHT
                + VELOCITY_WEIGHT
                + MERCHANT_RISK_WEIGHT
                + REMOTE_AT_NIGHT_WEIGHT)
        .isGreaterThan(1f);
    assertThat(FallbackRules.score(row)).isEqualTo(1f);
  }

  @Test
  void scoresAreInZeroToOneForAnyRow() {
    float[][] rows = {
      new float[FallbackRules.WIDTH],
      filled(-1e9f),
      filled(1e9f),
      filled(Float.NaN),
      filled(Float.NEGATIVE_INFINITY),
      filled(Float.POSITIVE_INFINITY)
    };
    for (float[] row : rows) {
      assertThat(FallbackRules.score(row)).as(Arrays.toString(row)).isBetween(0f, 1f);
    }
  }

  @Test
  void aNanFeatureFiresNoneOfItsRules() {
    assertThat(FallbackRules.score(filled(Float.NaN))).isCloseTo(BASE, EPS);
  }

  @Test
  void rulesReadTheFeaturesEnrichComputes() {
    CardState card =
        CardState.newBuilder().setCount(4).setAmountSum(400).setLastEventTimeMs(NOON_MS).build();
    Transaction usual =
        Transaction.newBuilder()
            .setAmount(90)
            .setEventTimeMs(NOON_MS + 3_600_000)
            .setChannel(Channel.POS)
            .setCountry("DE")
            .build();
    CardState nightCard = card.toBuilder().setLastEventTimeMs(NIGHT_MS - 30_000).build();
    Transaction fraudulent =
        Transaction.newBuilder()
            .setAmount(2_500)
            .setEventTimeMs(NIGHT_MS)
            .setChannel(Channel.ONLINE)
            .setCountry("NG")
            .build();
    Transaction atmAtNightOnly =
        usual.toBuilder().setEventTimeMs(NIGHT_MS).setChannel(Channel.ATM).build();
    CardState longAgo = card.toBuilder().setLastEventTimeMs(NIGHT_MS - 3_600_000).build();

    assertThat(FallbackRules.score(FeatureSpec.compute(usual, card, MerchantRisks.NONE)))
        .isCloseTo(BASE, EPS);
    assertThat(FallbackRules.score(FeatureSpec.compute(fraudulent, nightCard, MerchantRisks.NONE)))
        .isEqualTo(1f);
    assertThat(
            FallbackRules.score(FeatureSpec.compute(atmAtNightOnly, longAgo, MerchantRisks.NONE)))
        .isCloseTo(BASE + REMOTE_AT_NIGHT_WEIGHT, EPS);
  }

  @Test
  void scoresEveryRowOfAFlatBatch() {
    float[] risky = with(IS_HIGH_RISK_COUNTRY, 1);
    float[] extreme = with(AMOUNT_TO_CARD_MEAN, 20);
    float[] batch = concat(quietRow(), risky, extreme);

    assertThat(FallbackRules.score(batch, 3))
        .containsExactly(
            new float[] {BASE, BASE + MERCHANT_RISK_WEIGHT, BASE + RATIO_EXTREME_WEIGHT}, EPS);
    assertThat(FallbackRules.scoreRow(batch, 20)).isCloseTo(BASE + MERCHANT_RISK_WEIGHT, EPS);
    assertThat(FallbackRules.scoreRow(batch, 40)).isCloseTo(BASE + RATIO_EXTREME_WEIGHT, EPS);
    assertThat(FallbackRules.score(new float[0], 0)).isEmpty();
  }

  @Test
  void sameRowSameScore() {
    float[] row = with(AMOUNT_TO_CARD_MEAN, 7);
    row[IS_ATM] = 1;
    row[IS_NIGHT] = 1;
    float first = FallbackRules.score(row);
    for (int i = 0; i < 100; i++) {
      assertThat(FallbackRules.score(row.clone())).isEqualTo(first);
    }
  }

  @Test
  void aRowOfTheWrongLengthIsRejectedNamingExpectedAndActual() {
    assertThatThrownBy(() -> FallbackRules.score(new float[7]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a row of feature spec v3 must have 20 features, has 7");
    assertThatThrownBy(() -> FallbackRules.score(new float[21]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a row of feature spec v3 must have 20 features, has 21");
    assertThatThrownBy(() -> FallbackRules.score((float[]) null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("row is null");
  }

  @Test
  void aBatchOfTheWrongLengthIsRejectedNamingExpectedAndActual() {
    assertThatThrownBy(() -> FallbackRules.score(new float[39], 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("rows has 39 values but 2 rows of 20 features (feature spec v3) need 40");
    assertThatThrownBy(() -> FallbackRules.score(new float[FallbackRules.WIDTH], -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("-1 rows");
    assertThatThrownBy(() -> FallbackRules.score(null, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("rows is null");
  }

  @Test
  void aRowOffsetWithoutAFullRowIsRejected() {
    assertThatThrownBy(() -> FallbackRules.scoreRow(new float[40], 21))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "a row of feature spec v3 has 20 features, but rows has 40 values, so there is no full"
                + " row at offset 21");
    assertThatThrownBy(() -> FallbackRules.scoreRow(new float[40], -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("offset -1");
  }

  private static float[] filled(float value) {
    float[] row = new float[FeatureSpec.size()];
    Arrays.fill(row, value);
    return row;
  }

  private static float[] concat(float[]... rows) {
    float[] out = new float[rows.length * FeatureSpec.size()];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, out, i * FeatureSpec.size(), FeatureSpec.size());
    }
    return out;
  }
}
