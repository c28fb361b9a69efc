package io.decisionflow.stages.score;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.stages.MutableClock;
import io.decisionflow.stages.enrich.FeatureSpec;
import io.decisionflow.stages.score.GuardedModel.Result;
import io.decisionflow.stages.score.GuardedModel.Settings;
import io.github.resilience4j.circuitbreaker.CircuitBreaker.State;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The breaker runs on a {@link MutableClock} that only the tests move: a "slow" model moves it
 * forward while it scores, which is the duration resilience4j measures, and the open state ends
 * when the tests move it past {@link Settings#openFor}. Nothing sleeps.
 */
class GuardedModelTest {

  /** What the healthy test model gives every row; no rule score equals it. */
  private static final float MODEL_SCORE = 0.77f;

  private static final Settings DEFAULTS = Settings.defaults();

  private MutableClock clock;
  private TestModel model;
  private final List<String> transitions = new ArrayList<>();

  @BeforeEach
  void setUp() {
    clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    model = new TestModel(clock);
  }

  private GuardedModel guarded(Settings settings) {
    GuardedModel guarded = new GuardedModel(model, settings, clock);
    guarded.onStateTransition(transitions::add);
    return guarded;
  }

  /** Two rows: one that fires no rule, one at a high-risk merchant. */
  private static float[] batch() {
    float[] quiet = FallbackRulesTest.quietRow();
    float[] risky = FallbackRulesTest.quietRow();
    risky[FallbackRules.IS_HIGH_RISK_COUNTRY] = 1;
    float[] rows = Arrays.copyOf(quiet, 2 * FallbackRules.WIDTH);
    System.arraycopy(risky, 0, rows, FallbackRules.WIDTH, FallbackRules.WIDTH);
    return rows;
  }

  private static final float[] RULE_SCORES = FallbackRules.score(batch(), 2);

  private static void assertModelScores(Result result) {
    assertThat(result.fallback()).isFalse();
    assertThat(result.scores()).containsExactly(MODEL_SCORE, MODEL_SCORE);
  }

  private static void assertRuleScores(Result result) {
    assertThat(result.fallback()).isTrue();
    assertThat(result.scores()).containsExactly(RULE_SCORES);
  }

  /** Opens the breaker of {@code guarded} with {@code minimumCalls} failing calls. */
  private void open(GuardedModel guarded) {
    model.failing();
    for (int i = 0; i < DEFAULTS.minimumCalls(); i++) {
      assertRuleScores(guarded.score(batch(), 2));
    }
    assertThat(guarded.state()).isEqualTo(State.OPEN);
  }

  @Test
  void healthyModelScoresWithTheBreakerClosed() {
    GuardedModel guarded = guarded(DEFAULTS);

    for (int i = 0; i < 50; i++) {
      assertModelScores(guarded.score(batch(), 2));
    }

    assertThat(guarded.state()).isEqualTo(State.CLOSED);
    assertThat(model.calls).isEqualTo(50);
    assertThat(guarded.modelRows()).isEqualTo(100);
    assertThat(guarded.fallbackRows()).isZero();
    assertThat(transitions).isEmpty();
  }

  @Test
  void failingModelOpensTheBreakerAfterMinimumCallsAndIsNotCalledWhileOpen() {
    GuardedModel guarded = guarded(DEFAULTS);
    model.failing();

    for (int i = 1; i < DEFAULTS.minimumCalls(); i++) {
      assertRuleScores(guarded.score(batch(), 2));
      assertThat(guarded.state()).as("after %d failures", i).isEqualTo(State.CLOSED);
    }
    assertRuleScores(guarded.score(batch(), 2));

    assertThat(guarded.state()).isEqualTo(State.OPEN);
    assertThat(transitions).containsExactly("CLOSED -> OPEN");
    assertThat(model.calls).isEqualTo(DEFAULTS.minimumCalls());

    model.healthy();
    for (int i = 0; i < 25; i++) {
      assertRuleScores(guarded.score(batch(), 2));
    }
    assertThat(model.calls).as("not called while open").isEqualTo(DEFAULTS.minimumCalls());
    assertThat(guarded.fallbackRows()).isEqualTo(2L * (DEFAULTS.minimumCalls() + 25));
    assertThat(guarded.modelRows()).isZero();
  }

  @Test
  void failureRateUnderTheThresholdKeepsTheBreakerClosed() {
    GuardedModel guarded = guarded(DEFAULTS);

    for (int i = 0; i < 40; i++) {
      boolean fail = i % 3 == 0; // 1 in 3: 33% < 50%
      if (fail) {
        model.failing();
        assertRuleScores(guarded.score(batch(), 2));
      } else {
        model.healthy();
        assertModelScores(guarded.score(batch(), 2));
      }
    }

    assertThat(guarded.state()).isEqualTo(State.CLOSED);
    assertThat(model.calls).isEqualTo(40);
  }

  @Test
  void afterOpenForHalfOpenProbesGoToTheModelAndHealthyProbesCloseIt() {
    GuardedModel guarded = guarded(DEFAULTS);
    open(guarded);
    int callsWhenOpened = model.calls;
    model.healthy();

    clock.advance(DEFAULTS.openFor());
    assertRuleScores(guarded.score(batch(), 2));
    assertThat(guarded.state()).as("still open at exactly openFor").isEqualTo(State.OPEN);
    assertThat(model.calls).isEqualTo(callsWhenOpened);

    clock.advance(Duration.ofMillis(1));
    for (int probe = 1; probe < DEFAULTS.halfOpenProbes(); probe++) {
      assertModelScores(guarded.score(batch(), 2));
      assertThat(guarded.state()).as("after probe %d", probe).isEqualTo(State.HALF_OPEN);
    }
    assertModelScores(guarded.score(batch(), 2));

    assertThat(guarded.state()).isEqualTo(State.CLOSED);
    assertThat(model.calls).isEqualTo(callsWhenOpened + DEFAULTS.halfOpenProbes());
    assertThat(transitions)
        .containsExactly("CLOSED -> OPEN", "OPEN -> HALF_OPEN", "HALF_OPEN -> CLOSED");

    assertModelScores(guarded.score(batch(), 2));
    assertThat(guarded.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void failingProbesOpenTheBreakerAgain() {
    GuardedModel guarded = guarded(DEFAULTS);
    open(guarded);
    int callsWhenOpened = model.calls;

    clock.advance(DEFAULTS.openFor().plusMillis(1));
    for (int probe = 0; probe < DEFAULTS.halfOpenProbes(); probe++) {
      assertRuleScores(guarded.score(batch(), 2));
    }

    assertThat(guarded.state()).isEqualTo(State.OPEN);
    assertThat(model.calls).isEqualTo(callsWhenOpened + DEFAULTS.halfOpenProbes());
    assertThat(transitions)
        .containsExactly("CLOSED -> OPEN", "OPEN -> HALF_OPEN", "HALF_OPEN -> OPEN");

    // Open for openFor again, counted from the reopening.
    model.healthy();
    clock.advance(DEFAULTS.openFor());
    assertRuleScores(guarded.score(batch(), 2));
    assertThat(model.calls).isEqualTo(callsWhenOpened + DEFAULTS.halfOpenProbes());
    clock.advance(Duration.ofMillis(1));
    assertModelScores(guarded.score(batch(), 2));
    assertThat(guarded.state()).isEqualTo(State.HALF_OPEN);
  }

  @Test
  void withOneProbeASingleFailingProbeReopensTheBreaker() {
    Settings oneProbe =
        new Settings(Duration.ofMillis(50), 50f, 80f, 20, 10, Duration.ofSeconds(10), 1);
    GuardedModel guarded = guarded(oneProbe);
    open(guarded);

    clock.advance(Duration.ofSeconds(11));
    assertRuleScores(guarded.score(batch(), 2));

    assertThat(guarded.state()).isEqualTo(State.OPEN);
    assertThat(transitions)
        .containsExactly("CLOSED -> OPEN", "OPEN -> HALF_OPEN", "HALF_OPEN -> OPEN");
  }

  @Test
  void slowCallsOpenTheBreakerButStillReturnTheModelScores() {
    GuardedModel guarded = guarded(DEFAULTS);
    model.slow(DEFAULTS.latencyBudget().plusMillis(1));

    for (int i = 1; i < DEFAULTS.minimumCalls(); i++) {
      assertModelScores(guarded.score(batch(), 2));
      assertThat(guarded.state()).as("after %d slow calls", i).isEqualTo(State.CLOSED);
    }
    assertModelScores(guarded.score(batch(), 2));

    assertThat(guarded.state()).isEqualTo(State.OPEN);
    assertThat(transitions).containsExactly("CLOSED -> OPEN");
    assertRuleScores(guarded.score(batch(), 2));
    assertThat(model.calls).isEqualTo(DEFAULTS.minimumCalls());
  }

  @Test
  void callsThatTakeExactlyTheBudgetAreNotSlow() {
    GuardedModel guarded = guarded(DEFAULTS);
    model.slow(DEFAULTS.latencyBudget());

    for (int i = 0; i < 3 * DEFAULTS.slidingWindowCalls(); i++) {
      assertModelScores(guarded.score(batch(), 2));
    }

    assertThat(guarded.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void slowCallRateUnderTheThresholdKeepsTheBreakerClosed() {
    GuardedModel guarded = guarded(DEFAULTS);

    for (int i = 0; i < 3 * DEFAULTS.slidingWindowCalls(); i++) {
      // 7 in 10 slow, the fast ones spread out: at most 73% (8 of 11) of the window < 80%
      boolean slow = i % 10 != 1 && i % 10 != 4 && i % 10 != 7;
      model.slow(slow ? Duration.ofMillis(200) : Duration.ofMillis(5));
      assertModelScores(guarded.score(batch(), 2));
    }

    assertThat(guarded.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void slowProbesOpenTheBreakerAgain() {
    GuardedModel guarded = guarded(DEFAULTS);
    open(guarded);

    model.slow(Duration.ofSeconds(1));
    clock.advance(DEFAULTS.openFor().plusMillis(1));
    for (int probe = 0; probe < DEFAULTS.halfOpenProbes(); probe++) {
      assertModelScores(guarded.score(batch(), 2));
    }

    assertThat(guarded.state()).isEqualTo(State.OPEN);
    assertThat(transitions)
        .containsExactly("CLOSED -> OPEN", "OPEN -> HALF_OPEN", "HALF_OPEN -> OPEN");
  }

  @Test
  void unusableModelOutputCountsAsAFailure() {
    GuardedModel guarded = guarded(DEFAULTS);
    List<Function<Integer, float[]>> outputs =
        List.of(
            n -> null,
            n -> new float[n + 1],
            n -> new float[] {0.5f, Float.NaN},
            n -> new float[] {1.5f, 0.5f},
            n -> new float[] {-0.1f, 0.5f});

    for (int i = 0; i < DEFAULTS.minimumCalls(); i++) {
      model.returning(outputs.get(i % outputs.size()));
      assertRuleScores(guarded.score(batch(), 2));
    }

    assertThat(guarded.state()).isEqualTo(State.OPEN);
  }

  @Test
  void malformedRowsAreRejectedWithoutCallingTheModel() {
    GuardedModel guarded = guarded(DEFAULTS);

    for (int i = 0; i < 3 * DEFAULTS.slidingWindowCalls(); i++) {
      assertThatThrownBy(() -> guarded.score(new float[39], 2))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("rows has 39 values but 2 rows of 20 features (feature spec v3) need 40");
    }
    assertThatThrownBy(() -> guarded.score(null, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("rows is null");

    assertThat(model.calls).isZero();
    assertThat(guarded.state()).isEqualTo(State.CLOSED);
    assertThat(guarded.modelRows() + guarded.fallbackRows()).isZero();
  }

  @Test
  void anEmptyBatchIsEmptyWithoutCallingTheModel() {
    GuardedModel guarded = guarded(DEFAULTS);

    Result result = guarded.score(new float[0], 0);

    assertThat(result.scores()).isEmpty();
    assertThat(result.fallback()).isFalse();
    assertThat(model.calls).isZero();
  }

  @Test
  void productionConstructorScoresWithTheModel() {
    GuardedModel guarded = new GuardedModel(model, DEFAULTS);

    assertModelScores(guarded.score(batch(), 2));
    assertThat(guarded.state()).isEqualTo(State.CLOSED);
    assertThat(guarded.settings()).isEqualTo(DEFAULTS);
  }

  @Test
  void aModelOfAnotherFeatureSpecIsRejected() {
    Model v2 = new FakeModel(FakeModel.manifest("v1", List.of("amount_log", "something_else")));

    assertThatThrownBy(() -> new GuardedModel(v2, DEFAULTS, clock))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("takes feature spec v1")
        .hasMessageContaining("fallback rules score feature spec v3");
  }

  @Test
  void defaultSettings() {
    assertThat(DEFAULTS)
        .isEqualTo(
            new Settings(Duration.ofMillis(50), 50f, 80f, 20, 10, Duration.ofSeconds(10), 3));
  }

  @Test
  void settingsOutOfRangeAreRejectedNamingTheField() {
    Duration ms50 = Duration.ofMillis(50);
    Duration s10 = Duration.ofSeconds(10);
    assertRejected(() -> new Settings(null, 50, 80, 20, 10, s10, 3), "latencyBudget");
    assertRejected(() -> new Settings(Duration.ZERO, 50, 80, 20, 10, s10, 3), "latencyBudget");
    assertRejected(() -> new Settings(ms50, 0, 80, 20, 10, s10, 3), "failureRatePercent");
    assertRejected(() -> new Settings(ms50, 101, 80, 20, 10, s10, 3), "failureRatePercent");
    assertRejected(() -> new Settings(ms50, Float.NaN, 80, 20, 10, s10, 3), "failureRatePercent");
    assertRejected(() -> new Settings(ms50, 50, 0, 20, 10, s10, 3), "slowCallRatePercent");
    assertRejected(() -> new Settings(ms50, 50, 100.5f, 20, 10, s10, 3), "slowCallRatePercent");
    assertRejected(() -> new Settings(ms50, 50, 80, 0, 1, s10, 3), "slidingWindowCalls");
    assertRejected(() -> new Settings(ms50, 50, 80, 20, 0, s10, 3), "minimumCalls");
    assertRejected(() -> new Settings(ms50, 50, 80, 20, 21, s10, 3), "minimumCalls");
    assertRejected(() -> new Settings(ms50, 50, 80, 20, 10, null, 3), "openFor");
    assertRejected(
        () -> new Settings(ms50, 50, 80, 20, 10, Duration.ofNanos(999_999), 3), "openFor");
    assertRejected(() -> new Settings(ms50, 50, 80, 20, 10, s10, 0), "halfOpenProbes");

    assertThatThrownBy(() -> new Settings(ms50, 50, 80, 20, 10, s10, 0))
        .hasMessage("GuardedModel.Settings.halfOpenProbes must be >= 1, was 0");
  }

  private static void assertRejected(Runnable create, String field) {
    assertThatThrownBy(create::run)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("GuardedModel.Settings." + field + " ");
  }

  /**
   * A model of feature spec v1 that is healthy ({@link #MODEL_SCORE} for every row), failing
   * (throws), slow (moves the clock while it scores) or returns a given output; counts its calls.
   */
  static final class TestModel implements Model {
    private final MutableClock clock;
    private final ModelManifest manifest =
        FakeModel.manifest(FeatureSpec.VERSION, FeatureSpec.NAMES);
    private Duration takes = Duration.ZERO;
    private boolean failing;
    private Function<Integer, float[]> output;
    int calls;

    TestModel(MutableClock clock) {
      this.clock = clock;
      healthy();
    }

    void healthy() {
      failing = false;
      takes = Duration.ZERO;
      output = null;
    }

    void failing() {
      healthy();
      failing = true;
    }

    void slow(Duration takes) {
      healthy();
      this.takes = takes;
    }

    void returning(Function<Integer, float[]> output) {
      healthy();
      this.output = output;
    }

    @Override
    public ModelManifest manifest() {
      return manifest;
    }

    @Override
    public float[] score(float[] rows, int count) {
      calls++;
      clock.advance(takes);
      if (failing) {
        throw new IllegalStateException("model is broken");
      }
      if (output != null) {
        return output.apply(count);
      }
      float[] scores = new float[count];
      Arrays.fill(scores, MODEL_SCORE);
      return scores;
    }

    @Override
    public void close() {
      // nothing to release
    }
  }
}
