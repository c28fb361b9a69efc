package io.decisionflow.stages.score;

import io.decisionflow.stages.enrich.FeatureSpec;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.internal.CircuitBreakerStateMachine;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * A {@link Model} behind a circuit breaker, with {@link FallbackRules} when the model cannot be
 * used, so that scoring goes on when the model fails or is too slow.
 *
 * <p>Each {@link #score} call goes to the model through a resilience4j {@link CircuitBreaker}
 * (count-based sliding window of {@link Settings#slidingWindowCalls} calls). A call <b>fails</b>
 * when the model throws or returns something other than one finite score in [0, 1] per row; it is
 * <b>slow</b> when it takes longer than {@link Settings#latencyBudget}. Once at least {@link
 * Settings#minimumCalls} calls are in the window, the breaker opens when the failure rate reaches
 * {@link Settings#failureRatePercent} or the slow call rate reaches {@link
 * Settings#slowCallRatePercent}.
 *
 * <p>While the breaker is open the model is not called: every row is scored by {@link
 * FallbackRules} and the result is marked {@link Result#fallback}. A failed call is scored the same
 * way. A slow call that succeeds still returns the model's scores. After {@link Settings#openFor}
 * the next call moves the breaker to half-open, where {@link Settings#halfOpenProbes} calls go to
 * the model: if their failure and slow call rates stay under the thresholds the breaker closes,
 * otherwise it opens again. Recovery is automatic; nothing has to be reset by hand.
 *
 * <p>{@link #score} never throws for what the model does; it throws {@link
 * IllegalArgumentException} for a malformed row array, before calling the model (so that bad input
 * does not count against the model). Thread-safe.
 */
public final class GuardedModel {

  /** Scores of a batch, and whether they come from {@link FallbackRules} instead of the model. */
  public record Result(float[] scores, boolean fallback) {}

  /**
   * Settings of the circuit breaker.
   *
   * @param latencyBudget a model call taking longer than this is slow
   * @param failureRatePercent the breaker opens when this percentage of the calls in the window
   *     failed, in (0, 100]
   * @param slowCallRatePercent the breaker opens when this percentage of the calls in the window
   *     were slow, in (0, 100]
   * @param slidingWindowCalls number of most recent calls the rates are computed over
   * @param minimumCalls calls needed in the window before the rates are computed, at most {@code
   *     slidingWindowCalls}
   * @param openFor how long the breaker stays open before it lets probes through (at least 1 ms)
   * @param halfOpenProbes calls let through to the model when half-open, to decide whether to close
   *     or open again
   */
  public record Settings(
      Duration latencyBudget,
      float failureRatePercent,
      float slowCallRatePercent,
      int slidingWindowCalls,
      int minimumCalls,
      Duration openFor,
      int halfOpenProbes) {

    /**
     * @throws IllegalArgumentException naming the field that is out of range
     */
    public Settings {
      require(
          latencyBudget != null && latencyBudget.compareTo(Duration.ZERO) > 0,
          "latencyBudget",
          latencyBudget,
          "must be positive");
      require(
          failureRatePercent > 0 && failureRatePercent <= 100,
          "failureRatePercent",
          failureRatePercent,
          "must be in (0, 100]");
      require(
          slowCallRatePercent > 0 && slowCallRatePercent <= 100,
          "slowCallRatePercent",
          slowCallRatePercent,
          "must be in (0, 100]");
      require(slidingWindowCalls >= 1, "slidingWindowCalls", slidingWindowCalls, "must be >= 1");
      require(
          minimumCalls >= 1 && minimumCalls <= slidingWindowCalls,
          "minimumCalls",
          minimumCalls,
          "must be in [1, slidingWindowCalls = " + slidingWindowCalls + "]");
      require(
          openFor != null && openFor.compareTo(Duration.ofMillis(1)) >= 0,
          "openFor",
          openFor,
          "must be at least 1 ms");
      require(halfOpenProbes >= 1, "halfOpenProbes", halfOpenProbes, "must be >= 1");
    }

    /**
     * 50 ms latency budget; opens at 50% failed or 80% slow calls out of the last 20 calls (once 10
     * are recorded); stays open 10 s; then 3 probes.
     */
    public static Settings defaults() {
      return new Settings(Duration.ofMillis(50), 50f, 80f, 20, 10, Duration.ofSeconds(10), 3);
    }

    private static void require(boolean ok, String field, Object value, String rule) {
      if (!ok) {
        throw new IllegalArgumentException(
            "GuardedModel.Settings." + field + " " + rule + ", was " + value);
      }
    }
  }

  private final Model model;
  private final Settings settings;
  private final CircuitBreaker breaker;
  private final LongAdder modelRows = new LongAdder();
  private final LongAdder fallbackRows = new LongAdder();

  /**
   * Guards {@code model}, measuring call durations with {@link System#nanoTime()} and the open
   * state on the system clock. This is the constructor for production.
   *
   * @throws IllegalArgumentException if the model does not take feature spec {@value
   *     FeatureSpec#VERSION}, the spec of {@link FallbackRules}
   */
  public GuardedModel(Model model, Settings settings) {
    this(model, settings, null);
  }

  /**
   * Guards {@code model} with all time read from {@code clock}: both how long a model call takes
   * (for the latency budget) and how long the breaker has been open. Meant for tests with a clock
   * that they move; with a wall clock, prefer {@link #GuardedModel(Model, Settings)}, whose call
   * durations are monotonic.
   *
   * @throws IllegalArgumentException if the model does not take feature spec {@value
   *     FeatureSpec#VERSION}, the spec of {@link FallbackRules}
   */
  public GuardedModel(Model model, Settings settings, Clock clock) {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(settings, "settings");
    ModelManifest manifest = model.manifest();
    if (!manifest.takesCurrentFeatureSpec()) {
      throw new IllegalArgumentException(
          manifest.featureSpecMismatch("the fallback rules score feature spec"));
    }
    this.model = model;
    this.settings = settings;
    CircuitBreakerConfig.Builder config =
        CircuitBreakerConfig.custom()
            .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
            .slidingWindowSize(settings.slidingWindowCalls())
            .minimumNumberOfCalls(settings.minimumCalls())
            .failureRateThreshold(settings.failureRatePercent())
            .slowCallRateThreshold(settings.slowCallRatePercent())
            .slowCallDurationThreshold(settings.latencyBudget())
            .waitDurationInOpenState(settings.openFor())
            // Open -> half-open on the first call after openFor: no scheduler thread.
            .automaticTransitionFromOpenToHalfOpenEnabled(false)
            .permittedNumberOfCallsInHalfOpenState(settings.halfOpenProbes())
            // Stay half-open until the probes have run, however long traffic takes to come.
            .maxWaitDurationInHalfOpenState(Duration.ZERO)
            .recordException(e -> true);
    String name = "model-" + manifest.name() + "-" + manifest.version();
    if (clock == null) {
      this.breaker = CircuitBreaker.of(name, config.build());
    } else {
      config.currentTimestampFunction(GuardedModel::epochNanos, TimeUnit.NANOSECONDS);
      this.breaker = new CircuitBreakerStateMachine(name, config.build(), clock);
    }
  }

  /**
   * Scores {@code count} rows laid out one after the other in {@code rows}: with the model while it
   * behaves, otherwise with {@link FallbackRules}.
   *
   * @throws IllegalArgumentException if {@code rows} does not hold exactly {@code count} rows of
   *     feature spec {@value FeatureSpec#VERSION}
   */
  public Result score(float[] rows, int count) {
    FallbackRules.requireRows(rows, count);
    if (count == 0) {
      return new Result(new float[0], false);
    }
    if (!breaker.tryAcquirePermission()) {
      return fallback(rows, count);
    }
    long start = breaker.getCurrentTimestamp();
    float[] scores;
    try {
      scores = checked(model.score(rows, count), count);
    } catch (RuntimeException e) {
      breaker.onError(breaker.getCurrentTimestamp() - start, breaker.getTimestampUnit(), e);
      return fallback(rows, count);
    } catch (Error e) {
      // Not the model's fault (e.g. out of memory): neither a success nor a failure.
      breaker.releasePermission();
      throw e;
    }
    breaker.onSuccess(breaker.getCurrentTimestamp() - start, breaker.getTimestampUnit());
    modelRows.add(count);
    return new Result(scores, false);
  }

  private Result fallback(float[] rows, int count) {
    fallbackRows.add(count);
    return new Result(FallbackRules.score(rows, count), true);
  }

  /** State of the breaker: CLOSED (model), OPEN (rules) or HALF_OPEN (probing the model). */
  public CircuitBreaker.State state() {
    return breaker.getState();
  }

  /** Rows scored by the fallback rules so far. */
  public long fallbackRows() {
    return fallbackRows.sum();
  }

  /** Rows scored by the model so far. */
  public long modelRows() {
    return modelRows.sum();
  }

  /** The settings of the breaker. */
  public Settings settings() {
    return settings;
  }

  /**
   * Calls {@code listener} with {@code "FROM -> TO"} (e.g. {@code "CLOSED -> OPEN"}) on every state
   * transition of the breaker, on the thread of the call that caused it. Meant for logging; the
   * listener should not block.
   */
  public void onStateTransition(Consumer<String> listener) {
    Objects.requireNonNull(listener, "listener");
    breaker
        .getEventPublisher()
        .onStateTransition(
            event ->
                listener.accept(
                    event.getStateTransition().getFromState()
                        + " -> "
                        + event.getStateTransition().getToState()));
  }

  /** The model's scores, or an exception (counted as a failure) if they are not usable. */
  private static float[] checked(float[] scores, int count) {
    if (scores == null || scores.length != count) {
      throw new IllegalStateException(
          "model returned "
              + (scores == null ? "null" : scores.length + " scores")
              + " for "
              + count
              + " rows");
    }
    for (int i = 0; i < count; i++) {
      if (!(scores[i] >= 0f && scores[i] <= 1f)) {
        throw new IllegalStateException(
            "model returned score " + scores[i] + " for row " + i + ", not in [0, 1]");
      }
    }
    return scores;
  }

  private static long epochNanos(Clock clock) {
    Instant now = clock.instant();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }
}
