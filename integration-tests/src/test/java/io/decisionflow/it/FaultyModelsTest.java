package io.decisionflow.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.state.CardState;
import io.decisionflow.stages.enrich.FeatureSpec;
import io.decisionflow.stages.enrich.MerchantRisks;
import io.decisionflow.stages.score.FallbackRules;
import io.decisionflow.stages.score.GuardedModel;
import io.decisionflow.stages.score.ModelManifest;
import io.decisionflow.stages.score.TensorFlowModel;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** {@link FaultyModels} with TensorFlow Java only: no Pulsar. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultyModelsTest {

  private static final double FAILS_ABOVE_AMOUNT = 100_000;
  private static final int F = FeatureSpec.size();

  @TempDir static Path temp;

  private Path dir;
  private TensorFlowModel model;

  @BeforeAll
  void buildAndLoad() {
    // A directory that does not exist yet, as ScoreResilienceIT passes.
    dir = FaultyModels.nanAboveAmount(temp.resolve("faulty").resolve("model"), FAILS_ABOVE_AMOUNT);
    model = TensorFlowModel.load(dir);
  }

  @AfterAll
  void close() {
    if (model != null) {
      model.close();
    }
  }

  @Test
  void writesASavedModelAndAManifestForTheCurrentFeatureSpec() {
    assertThat(dir.resolve("saved_model.pb")).isRegularFile();
    assertThat(Files.isDirectory(dir.resolve("variables"))).isTrue();
    ModelManifest manifest = model.manifest();
    assertThat(manifest.name()).isEqualTo("fraud");
    assertThat(manifest.version()).isEqualTo("faulty-v1");
    assertThat(manifest.featureSpecVersion()).isEqualTo(FeatureSpec.VERSION);
    assertThat(manifest.features()).isEqualTo(FeatureSpec.NAMES);
    assertThat(manifest.threshold()).isEqualTo(0.5);
    assertThat((String) manifest.training().get("note")).contains("NaN");
  }

  @Test
  void anOrdinaryRowGetsTheFixedLogisticRegressionScore() {
    float[] scores = model.score(row(30.0, "DE"), 1);

    // New card: amount_to_card_mean = 1, not a high-risk country.
    assertThat(scores).hasSize(1);
    assertThat(scores[0]).isBetween(0f, 1f).isCloseTo(sigmoid(0.3 * 1 - 3), within(1e-6f));
    assertThat(model.score(row(30.0, "NG"), 1)[0])
        .isCloseTo(sigmoid(0.3 * 1 + 1.5 - 3), within(1e-6f));
  }

  @Test
  void aRowAboveTheAmountScoresNaN() {
    assertThat(model.score(row(FAILS_ABOVE_AMOUNT * 10, "DE"), 1)[0]).isNaN();
    assertThat(model.score(row(FAILS_ABOVE_AMOUNT * 1.01, "DE"), 1)[0]).isNaN();
  }

  @Test
  void aRowAtOrJustBelowTheAmountStillScores() {
    // amount_log == the threshold exactly: not above it.
    assertThat(model.score(row(FAILS_ABOVE_AMOUNT, "DE"), 1)[0]).isBetween(0f, 1f);
    assertThat(model.score(row(FAILS_ABOVE_AMOUNT * 0.99, "DE"), 1)[0]).isBetween(0f, 1f);
  }

  @Test
  void inAMixedBatchOnlyTheRowAboveTheAmountIsNaN() {
    float[] rows =
        concat(
            row(30.0, "DE"),
            row(FAILS_ABOVE_AMOUNT * 10, "DE"),
            row(5_000.0, "NG"),
            row(FAILS_ABOVE_AMOUNT * 0.5, "DE"));

    float[] scores = model.score(rows, 4);

    assertThat(scores).hasSize(4);
    assertThat(scores[1]).isNaN();
    for (int i : new int[] {0, 2, 3}) {
      assertThat(scores[i]).as("row %d", i).isBetween(0f, 1f);
    }
  }

  @Test
  void behindTheGuardABatchWithOneRowAboveTheAmountFallsBackToTheRules() {
    GuardedModel guarded = new GuardedModel(model, GuardedModel.Settings.defaults());
    float[] good = concat(row(30.0, "DE"), row(40.0, "NG"));
    float[] bad = concat(row(30.0, "DE"), row(FAILS_ABOVE_AMOUNT * 10, "DE"), row(40.0, "NG"));

    GuardedModel.Result fine = guarded.score(good, 2);
    GuardedModel.Result failed = guarded.score(bad, 3);

    assertThat(fine.fallback()).isFalse();
    assertThat(fine.scores()).isEqualTo(model.score(good, 2));
    assertThat(failed.fallback()).isTrue();
    assertThat(failed.scores()).isEqualTo(FallbackRules.score(bad, 3));
    assertThat(guarded.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(guarded.modelRows()).isEqualTo(2);
    assertThat(guarded.fallbackRows()).isEqualTo(3);
  }

  @Test
  void theBreakerOpensOnRowsAboveTheAmountAndClosesOnceOrdinaryRowsReachTheModelAgain() {
    MutableClock clock = new MutableClock();
    GuardedModel guarded =
        new GuardedModel(
            model,
            new GuardedModel.Settings(
                Duration.ofSeconds(10), 50f, 100f, 4, 4, Duration.ofSeconds(1), 1),
            clock);
    float[] ordinary = row(30.0, "DE");
    float[] huge = row(FAILS_ABOVE_AMOUNT * 10, "DE");

    for (int i = 0; i < 4; i++) {
      assertThat(guarded.score(huge, 1).fallback()).isTrue();
    }
    assertThat(guarded.state()).isEqualTo(CircuitBreaker.State.OPEN);
    GuardedModel.Result whileOpen = guarded.score(ordinary, 1);
    assertThat(whileOpen.fallback()).isTrue();
    assertThat(whileOpen.scores()[0]).isEqualTo(FallbackRules.score(ordinary, 1)[0]);

    clock.advance(Duration.ofMillis(1_001));
    GuardedModel.Result probe = guarded.score(ordinary, 1);

    assertThat(probe.fallback()).isFalse();
    assertThat(probe.scores()[0]).isCloseTo(sigmoid(0.3 * 1 - 3), within(1e-6f));
    assertThat(guarded.state()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  /** The features of a new card's first POS transaction of {@code amount} in {@code country}. */
  private static float[] row(double amount, String country) {
    Transaction txn =
        Transaction.newBuilder()
            .setTransactionId("tx")
            .setCardId("card")
            .setMerchantId("merchant")
            .setAmount(amount)
            .setCurrency("EUR")
            .setEventTimeMs(Instant.parse("2026-01-15T12:00:00Z").toEpochMilli())
            .setChannel(Channel.POS)
            .setCountry(country)
            .build();
    float[] row = FeatureSpec.compute(txn, CardState.getDefaultInstance(), MerchantRisks.NONE);
    assertThat(row).hasSize(F);
    return row;
  }

  private static float[] concat(float[]... rows) {
    float[] out = new float[rows.length * F];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, out, i * F, F);
    }
    return out;
  }

  private static float sigmoid(double z) {
    return (float) (1 / (1 + Math.exp(-z)));
  }

  /** A clock that moves only when told to. */
  private static final class MutableClock extends Clock {

    private Instant now = Instant.parse("2026-01-15T12:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return Clock.fixed(now, zone);
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
