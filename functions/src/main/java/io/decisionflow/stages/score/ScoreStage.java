package io.decisionflow.stages.score;

import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Feature;
import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.enrich.FeatureSpec;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Scores routed transactions with the model of one slot, many records per model call. The model is
 * guarded by a circuit breaker: while it fails or is too slow, documented rules score the records
 * and their Score says {@code fallback}.
 */
public final class ScoreStage {

  /** Model version written into a Score that the fallback rules produced. */
  public static final String FALLBACK_VERSION = "fallback-rules";

  /** A request checked against the model, with its input row. */
  public record Prepared(ScoringRequest request, float[] row) {}

  /** A model and the breaker around it; one per model version served. */
  private record Serving(Model model, GuardedModel guarded) {}

  private final ScoreConfig config;
  private final Clock clock;
  private final Clock breakerClock;
  private final List<String> features;
  private final List<Consumer<String>> breakerListeners = new CopyOnWriteArrayList<>();

  /**
   * Held while a batch is scored and while the model is switched, so a batch is scored by exactly
   * one version and a replaced model is no longer in use once {@link #swap} returns. Batches are
   * scored one at a time ({@link MicroBatcher}), so the lock is uncontended except at a switch.
   */
  private final ReentrantLock servingLock = new ReentrantLock();

  private volatile Serving serving;

  private final LongAdder modelRows = new LongAdder();
  private final LongAdder fallbackRows = new LongAdder();

  /**
   * The stage on the wall clock, timing model calls with the monotonic clock.
   *
   * @throws ConfigException if the model was trained on another feature spec than the one enrich
   *     computes
   */
  public ScoreStage(ScoreConfig config, Model model) {
    this(config, model, Clock.systemUTC(), null);
  }

  /**
   * The stage with all time from {@code clock}: lineage stamps, model call durations and the
   * breaker's open time (for tests that move the clock).
   *
   * @throws ConfigException if the model was trained on another feature spec than the one enrich
   *     computes
   */
  public ScoreStage(ScoreConfig config, Model model, Clock clock) {
    this(config, model, clock, clock);
  }

  private ScoreStage(ScoreConfig config, Model model, Clock clock, Clock breakerClock) {
    ModelManifest manifest = model.manifest();
    if (!manifest.takesCurrentFeatureSpec()) {
      throw new ConfigException(
          "userConfig.modelLocation: "
              + manifest.featureSpecMismatch("enrich computes")
              + "; deploy a model trained on feature spec "
              + FeatureSpec.VERSION);
    }
    this.config = config;
    this.clock = clock;
    this.breakerClock = breakerClock;
    this.features = List.copyOf(FeatureSpec.NAMES);
    this.serving = new Serving(model, guard(model));
  }

  private GuardedModel guard(Model model) {
    GuardedModel guarded =
        breakerClock == null
            ? new GuardedModel(model, config.breakerSettings())
            : new GuardedModel(model, config.breakerSettings(), breakerClock);
    String version = model.manifest().version();
    guarded.onStateTransition(
        transition -> breakerListeners.forEach(l -> l.accept(version + ": " + transition)));
    return guarded;
  }

  /** The model currently serving behind its circuit breaker (state, counters). */
  public GuardedModel guarded() {
    return serving.guarded();
  }

  /** Rows scored by a model so far, whichever version. */
  public long modelRows() {
    return modelRows.sum();
  }

  /** Rows scored by the fallback rules so far, whichever version was serving. */
  public long fallbackRows() {
    return fallbackRows.sum();
  }

  /**
   * The state of the serving model's circuit breaker as a number for metrics: 0 closed (the model
   * scores), 1 half-open (probing the model), 2 open (the fallback rules score), 3 any other
   * (disabled or forced by an operator).
   */
  public int breakerStateCode() {
    return switch (serving.guarded().state()) {
      case CLOSED -> 0;
      case HALF_OPEN -> 1;
      case OPEN -> 2;
      default -> 3;
    };
  }

  /** The model currently serving. */
  public Model model() {
    return serving.model();
  }

  /**
   * Calls {@code listener} with {@code "<version>: FROM -> TO"} on every transition of the breaker
   * of whichever model serves, now or after a {@link #swap}. Meant for logs and metrics; it should
   * not block.
   */
  public void onBreakerTransition(Consumer<String> listener) {
    breakerListeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Makes {@code next} the model that scores every batch from now on, behind a fresh circuit
   * breaker. Waits for a batch being scored to finish; no batch is scored by two models.
   *
   * @return the model it replaced, no longer used by this stage: the caller closes it
   * @throws ModelRefusedException if {@code next} does not take the enrich stage's feature spec
   */
  public Model swap(Model next) {
    ModelManifest manifest = next.manifest();
    if (!manifest.takesCurrentFeatureSpec()) {
      throw new ModelRefusedException(manifest.featureSpecMismatch("enrich computes"));
    }
    Serving replacement = new Serving(next, guard(next));
    servingLock.lock();
    try {
      Serving old = serving;
      serving = replacement;
      return old.model();
    } finally {
      servingLock.unlock();
    }
  }

  /** Scores one request. */
  public Score score(ScoringRequest request) {
    return scoreAll(List.of(prepare(request))).get(0);
  }

  /**
   * Scores prepared requests with one model call, in order.
   *
   * @return one Score per request
   */
  public List<Score> scoreAll(List<Prepared> batch) {
    int width = features.size();
    float[] rows = new float[batch.size() * width];
    for (int i = 0; i < batch.size(); i++) {
      System.arraycopy(batch.get(i).row(), 0, rows, i * width, width);
    }
    GuardedModel.Result result;
    String version;
    servingLock.lock();
    try {
      Serving current = serving;
      result = current.guarded().score(rows, batch.size());
      version = current.model().manifest().version();
    } finally {
      servingLock.unlock();
    }
    (result.fallback() ? fallbackRows : modelRows).add(batch.size());
    long scoredAt = clock.millis();
    List<Score> scores = new ArrayList<>(batch.size());
    for (int i = 0; i < batch.size(); i++) {
      ScoringRequest request = batch.get(i).request();
      EnrichedTransaction enriched = request.getEnriched();
      ScoringRequest stamped =
          request.toBuilder()
              .setEnriched(
                  enriched.toBuilder()
                      .setLineage(enriched.getLineage().toBuilder().setScoredAtMs(scoredAt)))
              .build();
      scores.add(
          Score.newBuilder()
              .setRequest(stamped)
              .setModelSlot(config.modelSlot)
              .setModelVersion(result.fallback() ? FALLBACK_VERSION : version)
              .setScore(result.scores()[i])
              .setFallback(result.fallback())
              .build());
    }
    return scores;
  }

  /**
   * Checks a request against the model's feature spec and builds its input row.
   *
   * @throws InvalidRecordException naming the field at fault
   */
  public Prepared prepare(ScoringRequest request) {
    return new Prepared(request, featureRow(request));
  }

  /** The model's input row for a request, checked against the model's feature spec. */
  float[] featureRow(ScoringRequest request) {
    if (!config.modelSlot.equals(request.getModelSlot())) {
      throw new InvalidRecordException(
          "model_slot", request.getModelSlot(), "must be " + config.modelSlot + " on this topic");
    }
    EnrichedTransaction enriched = request.getEnriched();
    String spec = enriched.getFeatureSpecVersion();
    if (!spec.equals(FeatureSpec.VERSION)) {
      throw new InvalidRecordException(
          "enriched.feature_spec_version",
          spec,
          "must be " + FeatureSpec.VERSION + " for this model");
    }
    List<Feature> given = enriched.getFeaturesList();
    if (given.size() != features.size()) {
      throw new InvalidRecordException(
          "enriched.features", given.size() + " features", "must hold " + features.size());
    }
    float[] row = new float[features.size()];
    for (int i = 0; i < row.length; i++) {
      Feature feature = given.get(i);
      if (!features.get(i).equals(feature.getName())) {
        throw new InvalidRecordException(
            "enriched.features[" + i + "].name", feature.getName(), "must be " + features.get(i));
      }
      if (!Double.isFinite(feature.getValue())) {
        throw new InvalidRecordException(
            "enriched.features." + feature.getName(), feature.getValue(), "must be finite");
      }
      row[i] = (float) feature.getValue();
    }
    return row;
  }
}
