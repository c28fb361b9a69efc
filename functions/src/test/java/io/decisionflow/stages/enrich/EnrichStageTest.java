package io.decisionflow.stages.enrich;

import static io.decisionflow.stages.Fixtures.CLOCK;
import static io.decisionflow.stages.Fixtures.EVENT_TIME_MS;
import static io.decisionflow.stages.Fixtures.NOW;
import static io.decisionflow.stages.Fixtures.transaction;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Feature;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.state.CardState;
import io.decisionflow.stages.InvalidRecordException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class EnrichStageTest {

  private static final String CARD = "card-1";
  private static final String KEY = "card:" + CARD;

  private final InMemoryCardStateStore store = new InMemoryCardStateStore();

  /** The merchant table the stage sees; tests change it between records. */
  private final InMemoryMerchantRisks merchants =
      InMemoryMerchantRisks.of(Map.of("merchant-1", 0.2));

  private EnrichStage stage() {
    return stage(new EnrichConfig());
  }

  private EnrichStage stage(EnrichConfig config) {
    config.validate();
    return new EnrichStage(config, store, merchants, CLOCK);
  }

  /** A transaction of {@link #CARD}, {@code secondsLater} after the fixture's event time. */
  private static Transaction txn(String id, double amount, int secondsLater) {
    return txn(CARD, id, amount, secondsLater);
  }

  /** A transaction of a card, {@code secondsLater} after the fixture's event time. */
  private static Transaction txn(String card, String id, double amount, int secondsLater) {
    return transaction(card, id, amount, EVENT_TIME_MS + secondsLater * 1000L);
  }

  private static double feature(EnrichedTransaction enriched, String name) {
    return enriched.getFeaturesList().stream()
        .filter(f -> f.getName().equals(name))
        .mapToDouble(Feature::getValue)
        .findFirst()
        .orElseThrow();
  }

  @Test
  void emitsTheTransactionWithSpecFeaturesAndEnrichedAtStamp() {
    // Given
    EnrichStage stage = stage();
    Transaction txn = transaction().build();

    // When
    EnrichedTransaction enriched = stage.enrich(txn).join();

    // Then
    assertThat(enriched.getTransaction()).isEqualTo(txn);
    assertThat(enriched.getFeatureSpecVersion()).isEqualTo(FeatureSpec.VERSION);
    assertThat(enriched.getFeaturesList())
        .extracting(Feature::getName)
        .containsExactlyElementsOf(FeatureSpec.NAMES);
    float[] expected = FeatureSpec.compute(txn, CardState.getDefaultInstance(), merchants);
    for (int i = 0; i < expected.length; i++) {
      assertThat(enriched.getFeatures(i).getValue()).isEqualTo(expected[i]);
    }
    assertThat(enriched.getLineage().getEnrichedAtMs()).isEqualTo(NOW.toEpochMilli());
    assertThat(enriched.getLineage().getRoutedAtMs()).isZero();
  }

  @Test
  void accumulatesStateAcrossRecordsOfACardAndReadsTheStoreOnce() {
    // Given
    EnrichStage stage = stage();

    // When: 10, 20 and 30 a minute apart
    stage.enrich(txn("t1", 10.0, 0)).join();
    stage.enrich(txn("t2", 20.0, 60)).join();
    EnrichedTransaction third = stage.enrich(txn("t3", 30.0, 120)).join();

    // Then: the third sees two prior transactions of mean 15, the newest 60 s before
    assertThat(feature(third, "card_txn_count_log")).isCloseTo(1.098612, within(1e-5)); // ln 3
    assertThat(feature(third, "amount_to_card_mean")).isCloseTo(2.0, within(1e-6)); // 30 / 15
    assertThat(feature(third, "seconds_since_last_log")).isCloseTo(4.110874, within(1e-5));
    CardState saved = store.get(KEY).orElseThrow();
    assertThat(saved.getCount()).isEqualTo(3);
    assertThat(saved.getAmountSum()).isEqualTo(60.0);
    assertThat(saved.getLastTransactionId()).isEqualTo("t3");
    assertThat(saved.getLastEventTimeMs()).isEqualTo(EVENT_TIME_MS + 120_000);
    assertThat(store.saves()).isEqualTo(3);
    assertThat(store.loadsOf(KEY)).isEqualTo(1);
  }

  @Test
  void keepsCardsApartAndKeysStateByPrefix() {
    // Given
    EnrichConfig config = new EnrichConfig();
    config.stateKeyPrefix = "fraud/cards/";
    EnrichStage stage = stage(config);

    // When
    stage.enrich(txn("card-a", "a1", 10.0, 0)).join();
    EnrichedTransaction other = stage.enrich(txn("card-b", "b1", 10.0, 1)).join();

    // Then
    assertThat(feature(other, "card_txn_count_log")).isZero();
    assertThat(store.get("fraud/cards/card-a").orElseThrow().getCount()).isEqualTo(1);
    assertThat(store.get("fraud/cards/card-b").orElseThrow().getCount()).isEqualTo(1);
    assertThat(store.get("card:card-a")).isEmpty();
  }

  @Test
  void appliesRecordsOfACardInOrderWhileTheFirstSaveIsPending() {
    // Given: saves stay pending until released
    EnrichStage stage = stage();
    store.holdSaves();

    // When
    CompletableFuture<EnrichedTransaction> first = stage.enrich(txn("t1", 10.0, 0));
    CompletableFuture<EnrichedTransaction> second = stage.enrich(txn("t2", 20.0, 60));

    // Then: neither completes, and the second waits for the first's state
    assertThat(first).isNotDone();
    assertThat(second).isNotDone();
    assertThat(store.saves()).isEqualTo(1);

    // When: the first save becomes durable
    store.releaseNextSave();

    // Then: the first completes, the second is applied on its state but not yet durable
    assertThat(first).isCompleted();
    assertThat(second).isNotDone();
    assertThat(store.pendingSaves()).isEqualTo(1);

    // When
    store.releaseNextSave();

    // Then
    EnrichedTransaction enriched = second.join();
    assertThat(feature(enriched, "card_txn_count_log")).isCloseTo(0.693147, within(1e-5)); // ln 2
    assertThat(feature(enriched, "amount_to_card_mean")).isCloseTo(2.0, within(1e-6)); // 20 / 10
    assertThat(store.get(KEY).orElseThrow().getCount()).isEqualTo(2);
    assertThat(store.loadsOf(KEY)).isEqualTo(1);
  }

  @Test
  void redeliveredTransactionDoesNotCountTwiceAndGetsItsFirstFeatures() {
    // Given
    EnrichStage stage = stage();
    stage.enrich(txn("t1", 10.0, 0)).join();
    EnrichedTransaction firstTime = stage.enrich(txn("t2", 20.0, 60)).join();

    // When
    EnrichedTransaction redelivered = stage.enrich(txn("t2", 20.0, 60)).join();

    // Then
    assertThat(redelivered).isEqualTo(firstTime);
    assertThat(store.get(KEY).orElseThrow().getCount()).isEqualTo(2);
    assertThat(store.saves()).isEqualTo(2);
  }

  @Test
  void aMerchantTableUpdateBetweenTwoRecordsOfACardAppliesToTheSecond() {
    // Given: the card's first record at merchant-1, rated 0.2
    EnrichStage stage = stage();
    EnrichedTransaction first = stage.enrich(txn("t1", 10.0, 0)).join();

    // When: merchant-1 is rated 0.8, then the card's next record arrives
    merchants.put("merchant-1", 0.8);
    EnrichedTransaction second = stage.enrich(txn("t2", 20.0, 60)).join();

    // Then: the first keeps 0.2, the second gets 0.8; the card's features are not disturbed
    assertThat(feature(first, "merchant_risk")).isEqualTo(0.2f);
    assertThat(feature(second, "merchant_risk")).isEqualTo(0.8f);
    assertThat(feature(second, "merchant_unknown")).isZero();
    assertThat(feature(second, "card_txn_count_log")).isCloseTo(0.693147, within(1e-5)); // ln 2

    // When: merchant-1 is deleted from the table (a tombstone)
    merchants.remove("merchant-1");
    EnrichedTransaction third = stage.enrich(txn("t3", 30.0, 120)).join();

    // Then: it is unknown
    assertThat(feature(third, "merchant_risk")).isZero();
    assertThat(feature(third, "merchant_unknown")).isEqualTo(1.0);
  }

  @Test
  void aRedeliveredRecordKeepsItsFirstMerchantRiskAfterATableUpdate() {
    // Given: t2 enriched while merchant-1 was rated 0.2
    EnrichStage stage = stage();
    stage.enrich(txn("t1", 10.0, 0)).join();
    EnrichedTransaction firstTime = stage.enrich(txn("t2", 20.0, 60)).join();

    // When: merchant-1 is rated 0.8, then t2 is redelivered, to this instance and to a new one
    merchants.put("merchant-1", 0.8);
    EnrichedTransaction redelivered = stage.enrich(txn("t2", 20.0, 60)).join();
    EnrichedTransaction afterRestart = stage().enrich(txn("t2", 20.0, 60)).join();

    // Then: it is the very record of the first time, with 0.2
    assertThat(redelivered).isEqualTo(firstTime);
    assertThat(afterRestart).isEqualTo(firstTime);
    assertThat(feature(redelivered, "merchant_risk")).isEqualTo(0.2f);
    assertThat(store.get(KEY).orElseThrow().getCount()).isEqualTo(2);
  }

  @Test
  void redeliveryAfterARestartIsRecognisedFromTheStoredState() {
    // Given: a stage that enriched two records, then a new instance on the same store
    EnrichStage before = stage();
    before.enrich(txn("t1", 10.0, 0)).join();
    EnrichedTransaction firstTime = before.enrich(txn("t2", 20.0, 60)).join();
    EnrichStage after = stage();

    // When
    EnrichedTransaction redelivered = after.enrich(txn("t2", 20.0, 60)).join();

    // Then
    assertThat(redelivered).isEqualTo(firstTime);
    assertThat(store.get(KEY).orElseThrow().getCount()).isEqualTo(2);
  }

  @Test
  void failedSaveFailsThatRecordAndTheNextRecordReloadsTheState() {
    // Given: t1 is durable, then the store fails t2's save
    EnrichStage stage = stage();
    stage.enrich(txn("t1", 10.0, 0)).join();
    store.failNextSave(new IllegalStateException("bookie down"));

    // When
    CompletableFuture<EnrichedTransaction> failed = stage.enrich(txn("t2", 20.0, 60));

    // Then
    assertThat(failed).isCompletedExceptionally();
    assertThatThrownBy(failed::join)
        .isInstanceOf(CompletionException.class)
        .hasRootCauseMessage("bookie down");
    assertThat(store.get(KEY).orElseThrow().getCount()).isEqualTo(1);

    // When
    EnrichedTransaction next = stage.enrich(txn("t3", 30.0, 120)).join();

    // Then: the card's state came from the store again, without t2
    assertThat(store.loadsOf(KEY)).isEqualTo(2);
    assertThat(feature(next, "card_txn_count_log")).isCloseTo(0.693147, within(1e-5)); // ln 2
    assertThat(feature(next, "amount_to_card_mean")).isCloseTo(3.0, within(1e-6)); // 30 / 10
    CardState saved = store.get(KEY).orElseThrow();
    assertThat(saved.getCount()).isEqualTo(2);
    assertThat(saved.getAmountSum()).isEqualTo(40.0);
  }

  @Test
  void failedLoadFailsThatRecordAndTheNextRecordLoadsAgain() {
    // Given
    EnrichStage stage = stage();
    store.failNextLoad(new IllegalStateException("state card:card-1 is not a CardState"));

    // When
    CompletableFuture<EnrichedTransaction> failed = stage.enrich(txn("t1", 10.0, 0));

    // Then: the record fails instead of staying pending forever
    assertThat(failed).isCompletedExceptionally();
    assertThatThrownBy(failed::join).hasRootCauseMessage("state card:card-1 is not a CardState");
    assertThat(store.saves()).isZero();

    // When
    EnrichedTransaction next = stage.enrich(txn("t1", 10.0, 0)).join();

    // Then
    assertThat(store.loadsOf(KEY)).isEqualTo(2);
    assertThat(feature(next, "card_txn_count_log")).isZero();
    assertThat(store.get(KEY).orElseThrow().getCount()).isEqualTo(1);
  }

  @Test
  void invalidTransactionThrowsAtOnceAndChangesNothing() {
    // Given
    EnrichStage stage = stage();
    Transaction invalid = transaction().setAmount(-5.0).build();

    // When
    InvalidRecordException error =
        catchThrowableOfType(InvalidRecordException.class, () -> stage.enrich(invalid));

    // Then
    assertThat(error.field()).isEqualTo("amount");
    assertThat(store.saves()).isZero();
    assertThat(store.loads()).isZero();
    assertThat(stage.cachedCards()).isZero();
  }

  @Test
  void evictionKeepsTheCacheBoundedAndTheStateSurvivesInTheStore() {
    // Given
    EnrichConfig config = new EnrichConfig();
    config.maxCachedCards = 10;
    EnrichStage stage = stage(config);
    stage.enrich(txn("card-0", "first", 10.0, 0)).join();

    // When: a hundred other cards come by
    for (int i = 1; i <= 100; i++) {
      stage.enrich(txn("card-" + i, "t" + i, 10.0, i)).join();

      // Then
      assertThat(stage.cachedCards()).isLessThanOrEqualTo(10);
    }

    // When: the first card comes back
    EnrichedTransaction back = stage.enrich(txn("card-0", "second", 10.0, 200)).join();

    // Then: its state was reloaded, not lost
    assertThat(store.loadsOf("card:card-0")).isEqualTo(2);
    assertThat(feature(back, "card_txn_count_log")).isCloseTo(0.693147, within(1e-5)); // ln 2
  }

  @Test
  void evictionNeverDropsACardWithARecordInFlight() {
    // Given: card-0's first save is pending
    EnrichConfig config = new EnrichConfig();
    config.maxCachedCards = 10;
    EnrichStage stage = stage(config);
    store.holdSaves();
    CompletableFuture<EnrichedTransaction> first = stage.enrich(txn("card-0", "first", 10.0, 0));
    store.stopHoldingSaves();

    // When: a hundred other cards fill the cache, then card-0's next record arrives
    for (int i = 1; i <= 100; i++) {
      stage.enrich(txn("card-" + i, "t" + i, 10.0, i)).join();
    }
    CompletableFuture<EnrichedTransaction> second =
        stage.enrich(txn("card-0", "second", 20.0, 200));

    // Then: the cache stays bounded, and card-0's second record waits for its first
    assertThat(stage.cachedCards()).isLessThanOrEqualTo(10);
    assertThat(first).isNotDone();
    assertThat(second).isNotDone();

    // When
    store.releaseNextSave();

    // Then: the second record saw the first's state, not a fresh load
    assertThat(first).isCompleted();
    EnrichedTransaction enriched = second.join();
    assertThat(feature(enriched, "card_txn_count_log")).isCloseTo(0.693147, within(1e-5));
    assertThat(store.loadsOf("card:card-0")).isEqualTo(1);
    assertThat(store.get("card:card-0").orElseThrow().getCount()).isEqualTo(2);
  }
}
