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
import io.decisionflow.stages.MutableClock;
import java.time.Duration;
import java.util.Map;
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

  /** The outcome's record, once it is durable (the in-memory store completes saves at once). */
  private static EnrichedTransaction durable(EnrichStage.Outcome outcome) {
    assertThat(outcome.durable()).isCompleted();
    return outcome.record().join();
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
    EnrichedTransaction enriched = durable(stage.enrich(txn));

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
    durable(stage.enrich(txn("t1", 10.0, 0)));
    durable(stage.enrich(txn("t2", 20.0, 60)));
    EnrichedTransaction third = durable(stage.enrich(txn("t3", 30.0, 120)));

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
    durable(stage.enrich(txn("card-a", "a1", 10.0, 0)));
    EnrichedTransaction other = durable(stage.enrich(txn("card-b", "b1", 10.0, 1)));

    // Then
    assertThat(feature(other, "card_txn_count_log")).isZero();
    assertThat(store.get("fraud/cards/card-a").orElseThrow().getCount()).isEqualTo(1);
    assertThat(store.get("fraud/cards/card-b").orElseThrow().getCount()).isEqualTo(1);
    assertThat(store.get("card:card-a")).isEmpty();
  }

  @Test
  void emitsAtOnceAndAcknowledgesOnlyOnceTheStateIsDurable() {
    // Given: saves stay pending until released
    EnrichStage stage = stage();
    store.holdSaves();

    // When
    EnrichStage.Outcome first = stage.enrich(txn("t1", 10.0, 0));
    EnrichStage.Outcome second = stage.enrich(txn("t2", 20.0, 60));

    // Then: both records are ready, each on its predecessor's state, but neither is durable
    assertThat(first.record()).isCompleted();
    EnrichedTransaction enriched = second.record().join();
    assertThat(feature(enriched, "card_txn_count_log")).isCloseTo(0.693147, within(1e-5)); // ln 2
    assertThat(feature(enriched, "amount_to_card_mean")).isCloseTo(2.0, within(1e-6)); // 20 / 10
    assertThat(first.durable()).isNotDone();
    assertThat(second.durable()).isNotDone();
    assertThat(store.saves()).isEqualTo(1);

    // When: the first save (t1 only) becomes durable
    store.releaseNextSave();

    // Then: t1 is durable; t2 rides on the next write, which has started
    assertThat(first.durable()).isCompleted();
    assertThat(second.durable()).isNotDone();
    assertThat(store.pendingSaves()).isEqualTo(1);

    // When
    store.releaseNextSave();

    // Then
    assertThat(second.durable()).isCompleted();
    assertThat(store.get(KEY).orElseThrow().getCount()).isEqualTo(2);
    assertThat(store.loadsOf(KEY)).isEqualTo(1);
  }

  @Test
  void recordsArrivingDuringAWriteCoalesceIntoOneWrite() {
    // Given: t1's write is in flight
    EnrichStage stage = stage();
    store.holdSaves();
    EnrichStage.Outcome t1 = stage.enrich(txn("t1", 10.0, 0));

    // When: three more records of the card arrive meanwhile, then t1's write completes
    EnrichStage.Outcome t2 = stage.enrich(txn("t2", 20.0, 10));
    EnrichStage.Outcome t3 = stage.enrich(txn("t3", 30.0, 20));
    EnrichStage.Outcome t4 = stage.enrich(txn("t4", 40.0, 30));
    store.releaseNextSave();

    // Then: t1's write stored the state after t1 alone (what it was handed did not change since),
    // and one write carries the other three
    assertThat(t1.durable()).isCompleted();
    assertThat(store.get(KEY).orElseThrow().getCount()).isEqualTo(1);
    assertThat(store.saves()).isEqualTo(2);
    assertThat(store.pendingSaves()).isEqualTo(1);
    store.releaseNextSave();
    assertThat(t2.durable()).isCompleted();
    assertThat(t3.durable()).isCompleted();
    assertThat(t4.durable()).isCompleted();
    assertThat(store.get(KEY).orElseThrow().getCount()).isEqualTo(4);
    assertThat(stage.appliedChanges()).isEqualTo(4);
    assertThat(stage.writes()).isEqualTo(2);
  }

  @Test
  void aFlushDelayHoldsTheWriteSoLaterRecordsRideAlong() {
    // Given: writes wait 100 ms after a card changes
    EnrichConfig config = new EnrichConfig();
    config.stateFlushDelayMs = 100;
    MutableClock clock = new MutableClock(NOW);
    config.validate();
    EnrichStage stage = new EnrichStage(config, store, merchants, clock);

    // When: two records 40 ms apart
    EnrichStage.Outcome t1 = stage.enrich(txn("t1", 10.0, 0));
    clock.advance(Duration.ofMillis(40));
    EnrichStage.Outcome t2 = stage.enrich(txn("t2", 20.0, 60));
    stage.flush();

    // Then: both are emitted, nothing is written yet
    assertThat(t1.record()).isCompleted();
    assertThat(t2.record()).isCompleted();
    assertThat(store.saves()).isZero();
    assertThat(t1.durable()).isNotDone();

    // When: 100 ms after the first change
    clock.advance(Duration.ofMillis(60));
    stage.flush();

    // Then: one write made both durable
    assertThat(store.saves()).isEqualTo(1);
    assertThat(t1.durable()).isCompleted();
    assertThat(t2.durable()).isCompleted();
    assertThat(store.get(KEY).orElseThrow().getCount()).isEqualTo(2);
  }

  @Test
  void writesBeyondTheInFlightBoundWaitForAFreeSlot() {
    // Given: one write in flight at most
    EnrichConfig config = new EnrichConfig();
    config.maxStateWritesInFlight = 1;
    EnrichStage stage = stage(config);
    store.holdSaves();

    // When: two cards change
    EnrichStage.Outcome a = stage.enrich(txn("card-a", "a1", 10.0, 0));
    EnrichStage.Outcome b = stage.enrich(txn("card-b", "b1", 10.0, 1));

    // Then: only a's write runs; b's waits for the slot
    assertThat(store.saves()).isEqualTo(1);
    assertThat(stage.writesInFlight()).isEqualTo(1);
    assertThat(stage.cardsWaitingForWrite()).isEqualTo(1);

    // When
    store.releaseNextSave();

    // Then
    assertThat(a.durable()).isCompleted();
    assertThat(b.durable()).isNotDone();
    assertThat(store.saves()).isEqualTo(2);
    store.releaseNextSave();
    assertThat(b.durable()).isCompleted();
    assertThat(stage.writesInFlight()).isZero();
  }

  @Test
  void readsBeyondTheInFlightBoundWaitForAFreeSlot() {
    // Given: one read in flight at most, and reads stay pending
    EnrichConfig config = new EnrichConfig();
    config.maxStateReadsInFlight = 1;
    EnrichStage stage = stage(config);
    store.holdLoads();

    // When: two new cards arrive
    EnrichStage.Outcome a = stage.enrich(txn("card-a", "a1", 10.0, 0));
    EnrichStage.Outcome b = stage.enrich(txn("card-b", "b1", 10.0, 1));

    // Then: only a's state is being read; b waits for the slot
    assertThat(store.pendingLoads()).isEqualTo(1);
    assertThat(stage.cardsLoading()).isEqualTo(2);

    // When
    store.releaseNextLoad();

    // Then: a is applied and b's read has started
    assertThat(a.durable()).isCompleted();
    assertThat(b.record()).isNotDone();
    assertThat(store.pendingLoads()).isEqualTo(1);
    store.releaseNextLoad();
    assertThat(b.durable()).isCompleted();
    assertThat(stage.cardsLoading()).isZero();
  }

  @Test
  void recordsOfACardWhoseStateIsLoadingWaitAndApplyInOrder() {
    // Given: the card has one durable transaction, a new stage, and loads stay pending
    durable(stage().enrich(txn("t1", 10.0, 0)));
    EnrichStage stage = stage();
    store.holdLoads();

    // When: two records arrive before the state is loaded
    EnrichStage.Outcome t2 = stage.enrich(txn("t2", 20.0, 60));
    EnrichStage.Outcome t3 = stage.enrich(txn("t3", 30.0, 120));

    // Then: nothing is emitted yet, and the new stage reads the store once
    assertThat(t2.record()).isNotDone();
    assertThat(store.loadsOf(KEY)).isEqualTo(2); // the first stage's load, and this one

    // When
    store.releaseLoads();

    // Then: both are applied in order on the loaded state
    assertThat(feature(t2.record().join(), "card_txn_count_log")).isCloseTo(0.693147, within(1e-5));
    assertThat(feature(t3.record().join(), "card_txn_count_log")).isCloseTo(1.098612, within(1e-5));
    assertThat(t3.durable()).isCompleted();
    assertThat(store.get(KEY).orElseThrow().getCount()).isEqualTo(3);
  }

  @Test
  void redeliveredTransactionDoesNotCountTwiceAndGetsItsFirstFeatures() {
    // Given
    EnrichStage stage = stage();
    durable(stage.enrich(txn("t1", 10.0, 0)));
    EnrichedTransaction firstTime = durable(stage.enrich(txn("t2", 20.0, 60)));

    // When
    EnrichedTransaction redelivered = durable(stage.enrich(txn("t2", 20.0, 60)));

    // Then
    assertThat(redelivered).isEqualTo(firstTime);
    assertThat(store.get(KEY).orElseThrow().getCount()).isEqualTo(2);
    assertThat(store.saves()).isEqualTo(2);
  }

  @Test
  void redeliveryAfterARestartIsRecognisedFromTheStoredState() {
    // Given: a stage that enriched two records, then a new instance on the same store
    EnrichStage before = stage();
    durable(before.enrich(txn("t1", 10.0, 0)));
    EnrichedTransaction firstTime = durable(before.enrich(txn("t2", 20.0, 60)));
    EnrichStage after = stage();

    // When
    EnrichedTransaction redelivered = durable(after.enrich(txn("t2", 20.0, 60)));

    // Then
    assertThat(redelivered).isEqualTo(firstTime);
    assertThat(store.get(KEY).orElseThrow().getCount()).isEqualTo(2);
  }

  @Test
  void failedSaveFailsThatRecordAndTheNextRecordReloadsTheState() {
    // Given: t1 is durable, then the store fails t2's save
    EnrichStage stage = stage();
    durable(stage.enrich(txn("t1", 10.0, 0)));
    store.failNextSave(new IllegalStateException("bookie down"));

    // When
    EnrichStage.Outcome failed = stage.enrich(txn("t2", 20.0, 60));

    // Then: it was emitted, but it never becomes durable: it fails, to be redelivered
    assertThat(failed.record()).isCompleted();
    assertThat(failed.durable()).isCompletedExceptionally();
    assertThatThrownBy(failed.durable()::join)
        .isInstanceOf(CompletionException.class)
        .hasMessageContaining("state of card:card-1 not saved")
        .hasRootCauseMessage("bookie down");
    assertThat(store.get(KEY).orElseThrow().getCount()).isEqualTo(1);

    // When
    EnrichedTransaction next = durable(stage.enrich(txn("t3", 30.0, 120)));

    // Then: the card's state came from the store again, without t2
    assertThat(store.loadsOf(KEY)).isEqualTo(2);
    assertThat(feature(next, "card_txn_count_log")).isCloseTo(0.693147, within(1e-5)); // ln 2
    assertThat(feature(next, "amount_to_card_mean")).isCloseTo(3.0, within(1e-6)); // 30 / 10
    CardState saved = store.get(KEY).orElseThrow();
    assertThat(saved.getCount()).isEqualTo(2);
    assertThat(saved.getAmountSum()).isEqualTo(40.0);
  }

  @Test
  void aFailedSaveAlsoFailsTheCardsRecordsThatWaitedForTheNextWrite() {
    // Given: t1's write is in flight and t2 waits for the next one
    EnrichStage stage = stage();
    store.holdSaves();
    EnrichStage.Outcome t1 = stage.enrich(txn("t1", 10.0, 0));
    EnrichStage.Outcome t2 = stage.enrich(txn("t2", 20.0, 60));

    // When: t1's write fails
    store.failNextPendingSave(new IllegalStateException("bookie down"));

    // Then: t2 was applied on t1's lost state, so it fails too and no further write starts
    assertThat(t1.durable()).isCompletedExceptionally();
    assertThat(t2.durable()).isCompletedExceptionally();
    assertThat(store.saves()).isEqualTo(1);
    assertThat(stage.cachedCards()).isZero();
  }

  @Test
  void failedLoadFailsThatRecordAndTheNextRecordLoadsAgain() {
    // Given
    EnrichStage stage = stage();
    store.failNextLoad(new IllegalStateException("state card:card-1 is not a CardState"));

    // When
    EnrichStage.Outcome failed = stage.enrich(txn("t1", 10.0, 0));

    // Then: the record fails instead of staying pending forever
    assertThat(failed.record()).isCompletedExceptionally();
    assertThat(failed.durable()).isCompletedExceptionally();
    assertThatThrownBy(failed.durable()::join)
        .hasRootCauseMessage("state card:card-1 is not a CardState");
    assertThat(store.saves()).isZero();

    // When
    EnrichedTransaction next = durable(stage.enrich(txn("t1", 10.0, 0)));

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
    durable(stage.enrich(txn("card-0", "first", 10.0, 0)));

    // When: a hundred other cards come by
    for (int i = 1; i <= 100; i++) {
      durable(stage.enrich(txn("card-" + i, "t" + i, 10.0, i)));

      // Then
      assertThat(stage.cachedCards()).isLessThanOrEqualTo(10);
    }

    // When: the first card comes back
    EnrichedTransaction back = durable(stage.enrich(txn("card-0", "second", 10.0, 200)));

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
    EnrichStage.Outcome first = stage.enrich(txn("card-0", "first", 10.0, 0));
    store.stopHoldingSaves();

    // When: a hundred other cards fill the cache, then card-0's next record arrives
    for (int i = 1; i <= 100; i++) {
      durable(stage.enrich(txn("card-" + i, "t" + i, 10.0, i)));
    }
    EnrichStage.Outcome second = stage.enrich(txn("card-0", "second", 20.0, 200));

    // Then: the cache stays bounded, and card-0's second record is applied on the first's state
    assertThat(stage.cachedCards()).isLessThanOrEqualTo(10);
    assertThat(feature(second.record().join(), "card_txn_count_log"))
        .isCloseTo(0.693147, within(1e-5));
    assertThat(first.durable()).isNotDone();
    assertThat(second.durable()).isNotDone();

    // When
    store.releaseNextSave();

    // Then: both become durable through the card's own state, not a fresh load
    assertThat(first.durable()).isCompleted();
    assertThat(second.durable()).isCompleted();
    assertThat(store.loadsOf("card:card-0")).isEqualTo(1);
    assertThat(store.get("card:card-0").orElseThrow().getCount()).isEqualTo(2);
  }

  @Test
  void aMerchantTableUpdateBetweenTwoRecordsOfACardAppliesToTheSecond() {
    // Given: the card's first record at merchant-1, rated 0.2
    EnrichStage stage = stage();
    EnrichedTransaction first = durable(stage.enrich(txn("t1", 10.0, 0)));

    // When: merchant-1 is rated 0.8, then the card's next record arrives
    merchants.put("merchant-1", 0.8);
    EnrichedTransaction second = durable(stage.enrich(txn("t2", 20.0, 60)));

    // Then: the first keeps 0.2, the second gets 0.8; the card's features are not disturbed
    assertThat(feature(first, "merchant_risk")).isEqualTo(0.2f);
    assertThat(feature(second, "merchant_risk")).isEqualTo(0.8f);
    assertThat(feature(second, "merchant_unknown")).isZero();
    assertThat(feature(second, "card_txn_count_log")).isCloseTo(0.693147, within(1e-5)); // ln 2

    // When: merchant-1 is deleted from the table (a tombstone)
    merchants.remove("merchant-1");
    EnrichedTransaction third = durable(stage.enrich(txn("t3", 30.0, 120)));

    // Then: it is unknown
    assertThat(feature(third, "merchant_risk")).isZero();
    assertThat(feature(third, "merchant_unknown")).isEqualTo(1.0);
  }

  @Test
  void aRedeliveredRecordKeepsItsFirstMerchantRiskAfterATableUpdate() {
    // Given: t2 enriched while merchant-1 was rated 0.2
    EnrichStage stage = stage();
    durable(stage.enrich(txn("t1", 10.0, 0)));
    EnrichedTransaction firstTime = durable(stage.enrich(txn("t2", 20.0, 60)));

    // When: merchant-1 is rated 0.8, then t2 is redelivered, to this instance and to a new one
    merchants.put("merchant-1", 0.8);
    EnrichedTransaction redelivered = durable(stage.enrich(txn("t2", 20.0, 60)));
    EnrichedTransaction afterRestart = durable(stage().enrich(txn("t2", 20.0, 60)));

    // Then: it is the very record of the first time, with 0.2
    assertThat(redelivered).isEqualTo(firstTime);
    assertThat(afterRestart).isEqualTo(firstTime);
    assertThat(feature(redelivered, "merchant_risk")).isEqualTo(0.2f);
    assertThat(store.get(KEY).orElseThrow().getCount()).isEqualTo(2);
  }
}
