package io.decisionflow.stages.enrich;

import static io.decisionflow.stages.Fixtures.CLOCK;
import static io.decisionflow.stages.Fixtures.transaction;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.state.CardState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Event-time windows, lateness, repeated ids, offline/online parity and the size of the state. */
class EventTimeFeaturesTest {

  private static final String CARD = "card-1";
  private static final String KEY = "card:" + CARD;
  private static final long MIN = 60_000L;
  private static final long B = FeatureSpec.BUCKET_MS;

  /** Start of a bucket, noon UTC. */
  private static final long S = Instant.parse("2025-03-14T12:00:00Z").toEpochMilli();

  private static final int COUNT_5M = FeatureSpec.NAMES.indexOf("txn_count_5m");
  private static final int COUNT_1H = FeatureSpec.NAMES.indexOf("txn_count_1h");
  private static final int COUNT_24H = FeatureSpec.NAMES.indexOf("txn_count_24h");
  private static final int SUM_5M = FeatureSpec.NAMES.indexOf("amount_sum_5m_log");
  private static final int SUM_1H = FeatureSpec.NAMES.indexOf("amount_sum_1h_log");
  private static final int SUM_24H = FeatureSpec.NAMES.indexOf("amount_sum_24h_log");
  private static final int MAX_24H = FeatureSpec.NAMES.indexOf("max_amount_24h_log");
  private static final int MERCHANTS_1H = FeatureSpec.NAMES.indexOf("distinct_merchants_1h");
  private static final int ZSCORE = FeatureSpec.NAMES.indexOf("amount_zscore");
  private static final int COUNTRY_CHANGED = FeatureSpec.NAMES.indexOf("country_changed");
  private static final int SECONDS_SINCE_LAST = FeatureSpec.NAMES.indexOf("seconds_since_last_log");
  private static final int CARD_COUNT = FeatureSpec.NAMES.indexOf("card_txn_count_log");

  /** Merchant table of these tests: m-0 .. m-39 at risks i / 40, every fifth one unknown. */
  private static final MerchantRisks MERCHANTS = merchants();

  private final InMemoryCardStateStore store = new InMemoryCardStateStore();

  private static MerchantRisks merchants() {
    Map<String, Double> risks = new HashMap<>();
    for (int i = 0; i < 40; i++) {
      if (i % 5 != 0) {
        risks.put("m-" + i, i / 40.0);
      }
    }
    return InMemoryMerchantRisks.of(risks);
  }

  private static Transaction txn(String id, double amount, long eventTimeMs) {
    return transaction(CARD, id, amount, eventTimeMs);
  }

  private static CardState fold(Transaction... txns) {
    CardState state = CardState.getDefaultInstance();
    for (Transaction txn : txns) {
      state = FeatureSpec.apply(state, txn, MERCHANTS);
    }
    return state;
  }

  private static float at(CardState state, long eventTimeMs, int feature) {
    return FeatureSpec.compute(txn("probe", 1.0, eventTimeMs), state, MERCHANTS)[feature];
  }

  private EnrichStage stage() {
    EnrichConfig config = new EnrichConfig();
    config.validate();
    return new EnrichStage(config, store, MERCHANTS, CLOCK);
  }

  @Test
  void aTransactionLeavesEachWindowExactlyWhenItsBucketDoes() {
    // Given: one transaction at the start of a bucket
    CardState state = fold(txn("t1", 10.0, S));

    // Then: it is in the window of length W until the start of bucket + W/5min + 1
    long[][] windows = {{5 * MIN, COUNT_5M}, {60 * MIN, COUNT_1H}, {24 * 60 * MIN, COUNT_24H}};
    for (long[] w : windows) {
      int feature = (int) w[1];
      String name = FeatureSpec.NAMES.get(feature);
      assertThat(at(state, S + 1, feature)).as("%s just after", name).isEqualTo(1f);
      assertThat(at(state, S + w[0] + B - 1, feature)).as("%s at its last ms", name).isEqualTo(1f);
      assertThat(at(state, S + w[0] + B, feature)).as("%s once aged out", name).isEqualTo(0f);
    }
    // and an event at the same millisecond sees it (it came before in arrival order)
    assertThat(at(state, S, COUNT_5M)).isEqualTo(1f);
  }

  @Test
  void sumsAndMaxFollowTheirWindows() {
    // Given: 10 at S, 30 at S + 30 min, 5 at S + 58 min
    CardState state =
        fold(txn("t1", 10.0, S), txn("t2", 30.0, S + 30 * MIN), txn("t3", 5.0, S + 58 * MIN));

    // When: a transaction at S + 62 min
    float[] f = FeatureSpec.compute(txn("t4", 1.0, S + 62 * MIN), state, MERCHANTS);

    // Then: 5 min = buckets of 55-65 min (t3); 1 h = buckets from 0 min (all three)
    assertThat(f[COUNT_5M]).isEqualTo(1f);
    assertThat(f[SUM_5M]).isCloseTo((float) Math.log1p(5), within(1e-6f));
    assertThat(f[COUNT_1H]).isEqualTo(3f);
    assertThat(f[SUM_1H]).isCloseTo((float) Math.log1p(45), within(1e-6f));
    assertThat(f[SUM_24H]).isCloseTo((float) Math.log1p(45), within(1e-6f));
    assertThat(f[MAX_24H]).isCloseTo((float) Math.log1p(30), within(1e-6f));
  }

  @Test
  void distinctMerchantsOverTheLastHourOfEventTime() {
    CardState state =
        fold(
            transaction(CARD, "t1", 10, S).toBuilder().setMerchantId("m-a").build(),
            transaction(CARD, "t2", 10, S + 10 * MIN).toBuilder().setMerchantId("m-b").build(),
            transaction(CARD, "t3", 10, S + 20 * MIN).toBuilder().setMerchantId("m-a").build());

    assertThat(at(state, S + 30 * MIN, MERCHANTS_1H)).isEqualTo(2f);
    assertThat(at(state, S + 60 * MIN, MERCHANTS_1H)).isEqualTo(2f); // [t - 1 h, t] holds S
    assertThat(at(state, S + 60 * MIN + 1, MERCHANTS_1H)).isEqualTo(2f); // m-a at 20 min
    assertThat(at(state, S + 70 * MIN + 1, MERCHANTS_1H)).isEqualTo(1f); // m-b gone
  }

  @Test
  void zScoreAgainstTheRunningMeanAndDeviation() {
    // Given: 10, 20, 30: mean 20, sample deviation 10
    CardState state = fold(txn("t1", 10, S), txn("t2", 20, S + MIN), txn("t3", 30, S + 2 * MIN));

    assertThat(state.getAmountMean()).isCloseTo(20.0, within(1e-9));
    assertThat(at(state, S + 3 * MIN, ZSCORE)).isCloseTo(-1.9f, within(1e-5f)); // (1 - 20) / 10
    assertThat(FeatureSpec.compute(txn("t4", 45, S + 3 * MIN), state, MERCHANTS)[ZSCORE])
        .isCloseTo(2.5f, within(1e-5f));
    // near-equal amounts: the deviation is at least a tenth of the mean; far out is capped
    CardState flat = fold(txn("t1", 30, S), txn("t2", 31, S + MIN), txn("t3", 32, S + 2 * MIN));
    assertThat(FeatureSpec.compute(txn("t4", 34.1, S + 3 * MIN), flat, MERCHANTS)[ZSCORE])
        .isCloseTo(1.0f, within(1e-4f)); // (34.1 - 31) / 3.1
    assertThat(FeatureSpec.compute(txn("t4", 150, S + 3 * MIN), flat, MERCHANTS)[ZSCORE])
        .isEqualTo(10f);
    assertThat(FeatureSpec.compute(txn("t4", 0, S + 3 * MIN), flat, MERCHANTS)[ZSCORE])
        .isEqualTo(-10f);
    // one transaction has no deviation yet
    assertThat(at(fold(txn("t1", 10, S)), S + MIN, ZSCORE)).isEqualTo(0f);
  }

  @Test
  void countryChangedComparesWithTheNewestTransaction() {
    CardState state = fold(txn("t1", 10, S)); // DE
    Transaction abroad = txn("t2", 10, S + MIN).toBuilder().setCountry("FR").build();

    assertThat(FeatureSpec.compute(abroad, state, MERCHANTS)[COUNTRY_CHANGED]).isEqualTo(1f);
    assertThat(at(state, S + MIN, COUNTRY_CHANGED)).isEqualTo(0f);
    assertThat(
            FeatureSpec.compute(abroad, CardState.getDefaultInstance(), MERCHANTS)[COUNTRY_CHANGED])
        .isEqualTo(0f);
    assertThat(FeatureSpec.apply(state, abroad, MERCHANTS).getLastCountry()).isEqualTo("FR");
  }

  @Test
  void aLateTransactionWithinTheLatenessSeesItsOwnWindowsAndJoinsThem() {
    // Given: the card's newest transaction is at S + 20 min; one at S before it
    CardState state = fold(txn("t1", 10, S), txn("t2", 20, S + 20 * MIN));
    Transaction late = txn("t3", 40, S + 16 * MIN); // 4 min behind, allowed: 5 min

    // When
    EnrichedTransaction out = stage().enrich(late).record().join();
    float[] f = FeatureSpec.compute(late, state, MERCHANTS);
    CardState next = FeatureSpec.apply(state, late, MERCHANTS);

    // Then: windows at its own event time: t1 in 1 h, t2 (later) in none; gap 0
    assertThat(FeatureSpec.isLate(late, state, FeatureSpec.DEFAULT_ALLOWED_LATENESS_MS)).isFalse();
    assertThat(f[COUNT_5M]).isEqualTo(0f);
    assertThat(f[COUNT_1H]).isEqualTo(1f);
    assertThat(f[SECONDS_SINCE_LAST]).isEqualTo(0f);
    // and it joins its bucket: a transaction at S + 21 min sees t2 and t3 in 5 min
    assertThat(at(next, S + 21 * MIN, COUNT_5M)).isEqualTo(2f);
    assertThat(at(next, S + 21 * MIN, COUNT_1H)).isEqualTo(3f);
    assertThat(next.getLastEventTimeMs()).isEqualTo(S + 20 * MIN);
    assertThat(out.getLate()).isFalse();
  }

  @Test
  void aTransactionBeyondTheLatenessIsScoredOnCurrentStateFlaggedAndInNoWindow() throws Exception {
    // Given: the stage has seen t1 at S and t2 at S + 20 min
    EnrichStage stage = stage();
    stage.enrich(txn("t1", 10, S)).record().join();
    stage.enrich(txn("t2", 20, S + 20 * MIN)).record().join();
    Transaction late = txn("t3", 40, S + 14 * MIN).toBuilder().setMerchantId("m-late").build();

    // When: 6 min behind the newest
    EnrichedTransaction out = stage.enrich(late).record().join();

    // Then: flagged, windows as at S + 20 min (t2 in 5 min, both in 1 h)
    assertThat(out.getLate()).isTrue();
    assertThat(out.getFeatures(COUNT_5M).getValue()).isEqualTo(1.0);
    assertThat(out.getFeatures(COUNT_1H).getValue()).isEqualTo(2.0);
    // it counts as a transaction of the card, but in no window and no merchant list
    EnrichedTransaction after = stage.enrich(txn("t4", 5, S + 21 * MIN)).record().join();
    assertThat(after.getLate()).isFalse();
    assertThat(after.getFeatures(CARD_COUNT).getValue()).isCloseTo(Math.log1p(3), within(1e-6));
    assertThat(after.getFeatures(COUNT_1H).getValue()).isEqualTo(2.0);
    assertThat(after.getFeatures(MERCHANTS_1H).getValue()).isEqualTo(1.0);
    assertThat(after.getFeatures(SUM_24H).getValue()).isCloseTo(Math.log1p(30), within(1e-6));
    // and a redelivery of the late record is flagged again, with its first features
    stage.enrich(late).record().join(); // not the newest any more: a repeat, not counted
    assertThat(store.get(KEY).orElseThrow().getCount()).isEqualTo(4);
  }

  @Test
  void aRedeliveryOfTheNewestGetsItsFirstRecordEvenWhenLate() {
    EnrichStage stage = stage();
    stage.enrich(txn("t1", 10, S + 20 * MIN)).record().join();
    EnrichedTransaction first = stage.enrich(txn("t2", 20, S)).record().join();

    EnrichedTransaction again = stage.enrich(txn("t2", 20, S)).record().join();

    assertThat(first.getLate()).isTrue();
    assertThat(again).isEqualTo(first);
    assertThat(store.get(KEY).orElseThrow().getCount()).isEqualTo(2);
    assertThat(store.saves()).isEqualTo(2);
  }

  @Test
  void aRedeliveryOnAStateWrittenBySpecV1GetsTheFeaturesOfItsPreviousState() {
    // Given: a v1 state: t2 applied on top of t1, the state before t2 kept as previous
    CardState beforeT2 =
        CardState.newBuilder()
            .setCount(1)
            .setAmountSum(10)
            .setLastEventTimeMs(S)
            .setLastTransactionId("t1")
            .build();
    CardState v1 =
        CardState.newBuilder()
            .setCount(2)
            .setAmountSum(30)
            .setLastEventTimeMs(S + MIN)
            .setLastTransactionId("t2")
            .setPrevious(beforeT2)
            .build();
    Transaction t2 = txn("t2", 20, S + MIN);

    // When
    EnrichStage.Step step =
        EnrichStage.step(v1, t2, MERCHANTS, FeatureSpec.DEFAULT_ALLOWED_LATENESS_MS, 1L);

    // Then: not applied again, and its v1 features are those it had on the previous state
    assertThat(step.next()).isSameAs(v1);
    float[] expected = FeatureSpec.compute(t2, beforeT2, MERCHANTS);
    for (int i = 0; i < 8; i++) {
      assertThat(step.enriched().getFeatures(i).getValue()).isEqualTo((double) expected[i]);
    }
  }

  @Test
  void aRedeliveryOnAStateWrittenBySpecV2KeepsItsV2FeaturesAndLooksTheMerchantUp() {
    // Given: a state written by spec v2 (18 last features) after t2 at merchant m-3
    Transaction t1 = txn("t1", 10, S).toBuilder().setMerchantId("m-3").build();
    Transaction t2 = txn("t2", 20, S + MIN).toBuilder().setMerchantId("m-3").build();
    CardState v3 = fold(t1, t2);
    CardState v2 =
        v3.toBuilder()
            .clearLastFeatures()
            .addAllLastFeatures(
                v3.getLastFeaturesList().subList(0, FeatureSpec.MERCHANT_FEATURES_OFFSET))
            .build();

    // When t2 is redelivered
    EnrichStage.Step step =
        EnrichStage.step(v2, t2, MERCHANTS, FeatureSpec.DEFAULT_ALLOWED_LATENESS_MS, 1L);

    // Then: not applied again; its first 18 features are those it had, the merchant's from now
    assertThat(step.next()).isSameAs(v2);
    assertThat(step.enriched().getFeaturesCount()).isEqualTo(FeatureSpec.size());
    for (int i = 0; i < FeatureSpec.size(); i++) {
      assertThat(step.enriched().getFeatures(i).getValue())
          .as(FeatureSpec.NAMES.get(i))
          .isEqualTo((double) v3.getLastFeatures(i));
    }
    assertThat(step.enriched().getFeatures(FeatureSpec.MERCHANT_FEATURES_OFFSET).getValue())
        .isEqualTo((double) (float) (3 / 40.0));
  }

  @Test
  void aRepeatedOlderIdDoesNotCountTwiceWithinTheBound() {
    // Given: t1 then t2
    EnrichStage stage = stage();
    stage.enrich(txn("t1", 10, S)).record().join();
    stage.enrich(txn("t2", 20, S + MIN)).record().join();
    int saves = store.saves();

    // When: t1 comes again, out of order (e.g. redelivered after t2 was acknowledged)
    EnrichedTransaction repeat = stage.enrich(txn("t1", 10, S)).record().join();

    // Then: nothing changes; the record describes the card as it is
    CardState state = store.get(KEY).orElseThrow();
    assertThat(state.getCount()).isEqualTo(2);
    assertThat(state.getBuckets(0).getCount()).isEqualTo(2);
    assertThat(store.saves()).isEqualTo(saves);
    assertThat(repeat.getFeatures(COUNT_5M).getValue()).isEqualTo(2.0);
    assertThat(state.getRecentTransactionIdsList()).containsExactly("t1", "t2");
  }

  @Test
  void recentIdsAreBounded() {
    CardState state = CardState.getDefaultInstance();
    for (int i = 0; i < 40; i++) {
      state = FeatureSpec.apply(state, txn("t" + i, 1, S + i * 1000L), MERCHANTS);
    }
    assertThat(state.getRecentTransactionIdsList()).hasSize(FeatureSpec.MAX_RECENT_IDS);
    assertThat(state.getRecentTransactionIdsList()).endsWith("t39").doesNotContain("t23");
    assertThat(FeatureSpec.isRepeat(state, txn("t24", 1, S))).isTrue();
    assertThat(FeatureSpec.isRepeat(state, txn("t23", 1, S))).isFalse();
  }

  @Test
  void onlineFeaturesEqualTheOfflineFoldOfTheSameStreamShuffledWithinTheLateness() {
    // Given: 3,000 transactions of 20 cards, every ~20 s, each displaced by up to +-4 min of
    // event time (so some arrive behind their card's newest), a few 10 min late, some repeated
    Random random = new Random(7);
    List<Transaction> stream = new ArrayList<>();
    for (int i = 0; i < 3_000; i++) {
      long time = S + i * 20_000L + (long) ((random.nextDouble() * 2 - 1) * 4 * MIN);
      if (random.nextInt(100) == 0) {
        time -= 10 * MIN;
      }
      stream.add(
          transaction("card-" + random.nextInt(20), "tx-" + i, 1 + random.nextInt(300), time)
              .toBuilder()
              .setMerchantId("m-" + random.nextInt(40))
              .setCountry(random.nextInt(10) == 0 ? "FR" : "DE")
              .setChannel(random.nextBoolean() ? Channel.ONLINE : Channel.POS)
              .build());
      if (random.nextInt(50) == 0) {
        stream.add(stream.get(random.nextInt(stream.size())));
      }
    }

    // When: online through the stage, offline by folding the log with the static helpers, both
    // with the same merchant table (m-0 .. m-39, some of them unknown)
    EnrichStage stage = stage();
    List<EnrichedTransaction> online = new ArrayList<>();
    for (Transaction txn : stream) {
      online.add(stage.enrich(txn).record().join());
    }
    Map<String, CardState> cards = new HashMap<>();
    Map<String, CardState> plain = new HashMap<>();
    int late = 0;
    for (int i = 0; i < stream.size(); i++) {
      Transaction txn = stream.get(i);
      CardState prior = cards.getOrDefault(txn.getCardId(), CardState.getDefaultInstance());
      EnrichStage.Step step =
          EnrichStage.step(
              prior, txn, MERCHANTS, FeatureSpec.DEFAULT_ALLOWED_LATENESS_MS, CLOCK.millis());
      cards.put(txn.getCardId(), step.next());

      // Then: the same records
      assertThat(online.get(i)).as("record %d", i).isEqualTo(step.enriched());
      late += step.enriched().getLate() ? 1 : 0;

      // and, for each first occurrence, the plain FeatureSpec fold gives the same features
      CardState before = plain.getOrDefault(txn.getCardId(), CardState.getDefaultInstance());
      if (!FeatureSpec.isRepeat(before, txn)) {
        float[] f = FeatureSpec.compute(txn, before, MERCHANTS);
        for (int k = 0; k < f.length; k++) {
          assertThat(online.get(i).getFeatures(k).getValue()).isEqualTo((double) f[k]);
        }
        plain.put(txn.getCardId(), FeatureSpec.apply(before, txn, MERCHANTS));
      }
    }
    for (Map.Entry<String, CardState> card : cards.entrySet()) {
      assertThat(store.get("card:" + card.getKey()).orElseThrow()).isEqualTo(card.getValue());
      assertThat(plain.get(card.getKey())).isEqualTo(card.getValue());
    }
    assertThat(late).as("late records in the stream").isPositive();
  }

  @Test
  void theStateOfABusyCardStaysSmall() {
    // Given: 10,000 transactions on one card, every 10 s (about 28 h), at 500 merchants
    Random random = new Random(3);
    CardState state = CardState.getDefaultInstance();
    int largest = 0;
    for (int i = 0; i < 10_000; i++) {
      Transaction txn =
          transaction(CARD, "tx-" + i, 1 + random.nextInt(50_000) / 100.0, S + i * 10_000L)
              .toBuilder()
              .setMerchantId("merchant-" + random.nextInt(500))
              .build();
      state = FeatureSpec.apply(state, txn, MERCHANTS);
      largest = Math.max(largest, state.getSerializedSize());
    }

    // Then: at most 290 buckets, 64 merchant visits, 16 ids
    assertThat(state.getBucketsCount()).isLessThanOrEqualTo(290);
    assertThat(state.getRecentMerchantsCount()).isEqualTo(FeatureSpec.MAX_RECENT_MERCHANTS);
    assertThat(state.getRecentTransactionIdsCount()).isEqualTo(FeatureSpec.MAX_RECENT_IDS);
    assertThat(largest).as("largest serialized CardState, bytes").isLessThan(12 * 1024);
    System.out.printf(
        "busiest CardState: %d bytes at most, %d bytes at the end (%d buckets)%n",
        largest, state.getSerializedSize(), state.getBucketsCount());
  }
}
