package io.decisionflow.models.synthetic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.reference.MerchantRisk;
import io.decisionflow.schemas.state.CardState;
import io.decisionflow.stages.enrich.FeatureSpec;
import io.decisionflow.stages.enrich.InMemoryMerchantRisks;
import io.decisionflow.stages.enrich.MerchantRisks;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TransactionGeneratorTest {

  /** 2026-01-01 10:00 UTC: day. */
  private static final long DAY = 1_767_261_600_000L;

  /** 2026-01-01 02:00 UTC: night. */
  private static final long NIGHT = 1_767_232_800_000L;

  private static List<TransactionGenerator.Labelled> stream(long seed, int n) {
    TransactionGenerator generator =
        new TransactionGenerator(TransactionGenerator.Options.defaults(seed));
    List<TransactionGenerator.Labelled> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(generator.next());
    }
    return out;
  }

  @Test
  void isDeterministicForASeed() {
    assertThat(stream(7, 3_000)).isEqualTo(stream(7, 3_000));
    assertThat(stream(8, 3_000)).isNotEqualTo(stream(7, 3_000));
  }

  @Test
  void labelRateMatchesTheMeanTrueProbability() {
    LabelledFeatures data =
        LabelledFeatures.generate(
            new TransactionGenerator(TransactionGenerator.Options.defaults(3)), 60_000);
    double variance = 0;
    for (float p : data.p()) {
      assertThat(p).isBetween(0f, 1f);
      variance += p * (1.0 - p);
    }
    // Labels are independent Bernoulli(p): the count of frauds has variance sum p(1 - p).
    double sd = Math.sqrt(variance) / data.rows();
    assertThat(data.positiveRate()).isCloseTo(data.meanProbability(), within(5 * sd));
    assertThat(data.meanProbability()).isBetween(0.01, 0.05);
  }

  @Test
  void probabilityIsTheFormulaOfTheFeaturesTheEnrichStageComputes() {
    LabelledFeatures data =
        LabelledFeatures.generate(
            new TransactionGenerator(TransactionGenerator.Options.defaults(5)), 5_000);
    for (int i = 0; i < data.rows(); i++) {
      assertThat(data.p()[i])
          .as("row %d", i)
          .isEqualTo(
              (float) TransactionGenerator.fraudProbability(data.x(), i * FeatureSpec.size()));
    }
  }

  @Test
  void aRiskyMerchantRaisesTheRiskAndAnUnknownOneToo() {
    // The ordinary shop payment of the base case, at a merchant rated 0.9, then at one unknown.
    Transaction shop = txn(100, Channel.POS, "DE", DAY);
    CardState card = card(2, 200, DAY - 3_600_000);

    assertThat(p(shop.toBuilder().setMerchantId("m-risky").build(), card))
        .isCloseTo(sigmoid(-5.5 + 2.5 * 0.9f), within(1e-9));
    assertThat(p(shop.toBuilder().setMerchantId("m-new").build(), card))
        .isCloseTo(sigmoid(-5.5 + 1.0), within(1e-12));
  }

  @Test
  void theMerchantTableIsTheSameForEverySeedWithUnknownAndRiskyMerchants() {
    TransactionGenerator one = new TransactionGenerator(TransactionGenerator.Options.defaults(1));
    TransactionGenerator two = new TransactionGenerator(TransactionGenerator.Options.defaults(2));
    List<MerchantRisk> table = one.merchantTable();

    assertThat(table).isEqualTo(two.merchantTable());
    assertThat(one.unknownMerchants()).isEqualTo(two.unknownMerchants());
    Set<String> known = new HashSet<>();
    for (MerchantRisk row : table) {
      assertThat(row.getRisk()).as(row.getMerchantId()).isBetween(0.0, 1.0);
      assertThat(row.getCategory()).isNotEmpty();
      assertThat(one.merchantRisks().risk(row.getMerchantId())).hasValue(row.getRisk());
      known.add(row.getMerchantId());
    }
    assertThat(one.unknownMerchants()).doesNotContainAnyElementsOf(known);
    assertThat(known.size() + one.unknownMerchants().size())
        .isEqualTo(TransactionGenerator.MERCHANT_COUNT);
    assertThat(one.unknownMerchants().size()).isBetween(10, 50); // about 5%
    assertThat(table.stream().filter(r -> r.getRisk() >= 0.6).count()).isBetween(10L, 40L);
    assertThat(table.stream().filter(r -> r.getRisk() <= 0.2).count()).isGreaterThan(400L);
  }

  @Test
  void fraudIsMoreOftenAtRiskyOrUnknownMerchants() {
    // Given
    TransactionGenerator generator =
        new TransactionGenerator(TransactionGenerator.Options.defaults(13));
    Set<String> risky = new HashSet<>(generator.unknownMerchants());
    generator.merchantTable().stream()
        .filter(r -> r.getRisk() >= 0.6)
        .forEach(r -> risky.add(r.getMerchantId()));
    long[] count = new long[2];
    long[] atRisky = new long[2];

    // When
    for (int i = 0; i < 60_000; i++) {
      TransactionGenerator.Labelled labelled = generator.next();
      int label = labelled.fraud() ? 1 : 0;
      count[label]++;
      if (risky.contains(labelled.transaction().getMerchantId())) {
        atRisky[label]++;
      }
    }

    // Then: about 12% of legitimate transactions, several times that of frauds
    double legitimateShare = atRisky[0] / (double) count[0];
    double fraudShare = atRisky[1] / (double) count[1];
    assertThat(legitimateShare).isBetween(0.08, 0.16);
    assertThat(fraudShare).isGreaterThan(3 * legitimateShare);
  }

  @Test
  void ordinaryShopPaymentHasTheBaseRisk() {
    // POS by day at the card's mean amount, an hour after its previous transaction, at home.
    assertThat(p(txn(100, Channel.POS, "DE", DAY), card(2, 200, DAY - 3_600_000)))
        .isCloseTo(sigmoid(-5.5), within(1e-12));
  }

  @Test
  void nightOnlineCashOutInASpreeFromAHighRiskCountry() {
    // 5x the mean (hump = 1), online, 30 s after the previous one, in NG, at night.
    assertThat(p(txn(500, Channel.ONLINE, "NG", NIGHT), card(2, 200, NIGHT - 30_000)))
        .isCloseTo(sigmoid(-5.5 - 1.0 + 3.0 + 2.0 + 1.5), within(1e-12));
  }

  @Test
  void cardTestIsTinyOnlineInASpree() {
    // 0.01x the mean (tiny = 1, hump ~ 0), online, 20 s after the previous one, at home, by day.
    double hump = Math.exp(-Math.pow(Math.log(0.01f / 5.0), 2) / 0.5);
    assertThat(p(txn(1, Channel.ONLINE, "DE", DAY), card(2, 200, DAY - 20_000)))
        .isCloseTo(sigmoid(-5.5 - 1.0 + 3.0 * hump + 3.0 + 2.0), within(1e-12));
  }

  @Test
  void atmAtNightWithHalfTinyAmount() {
    // 0.15x the mean: tiny = 0.5 but not online; ATM at night; no spree (1 h).
    double ratio = 0.15f;
    double hump = Math.exp(-Math.pow(Math.log(ratio / 5), 2) / 0.5);
    assertThat(p(txn(15, Channel.ATM, "FR", NIGHT), card(2, 200, NIGHT - 3_600_000)))
        .isCloseTo(sigmoid(-5.5 - 1.0 + 3.0 * hump + 1.5), within(1e-12));
  }

  @Test
  void travellersShoppingSpreeIsSaferThanBase() {
    // POS in a high-risk country, 60 s after the previous one, by day.
    assertThat(p(txn(100, Channel.POS, "BR", DAY), card(2, 200, DAY - 60_000)))
        .isCloseTo(sigmoid(-5.5 - 2.0 - 1.5), within(1e-12));
  }

  @Test
  void newCardIsNeitherASpreeNorOffItsMean() {
    // First transaction of a card: ratio 1, gap 30 days.
    assertThat(p(txn(3_000, Channel.ONLINE, "US", DAY), CardState.getDefaultInstance()))
        .isCloseTo(
            sigmoid(-5.5 - 1.0 + 3.0 * Math.exp(-Math.pow(Math.log(0.2), 2) / 0.5)), within(1e-12));
  }

  /** The formula cases' merchant table: m-safe rated 0, m-risky 0.9; any other is unknown. */
  private static final MerchantRisks MERCHANTS =
      InMemoryMerchantRisks.of(Map.of("m-safe", 0.0, "m-risky", 0.9));

  private static double p(Transaction txn, CardState prior) {
    return TransactionGenerator.fraudProbability(FeatureSpec.compute(txn, prior, MERCHANTS), 0);
  }

  private static Transaction txn(double amount, Channel channel, String country, long timeMs) {
    return Transaction.newBuilder()
        .setTransactionId("t")
        .setCardId("c")
        .setMerchantId("m-safe")
        .setAmount(amount)
        .setCurrency("EUR")
        .setEventTimeMs(timeMs)
        .setChannel(channel)
        .setCountry(country)
        .build();
  }

  private static CardState card(long count, double amountSum, long lastMs) {
    return CardState.newBuilder()
        .setCount(count)
        .setAmountSum(amountSum)
        .setLastEventTimeMs(lastMs)
        .build();
  }

  private static double sigmoid(double z) {
    return 1 / (1 + Math.exp(-z));
  }
}
