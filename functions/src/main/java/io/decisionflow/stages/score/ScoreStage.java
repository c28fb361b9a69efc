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

  private final ScoreConfig config;
  private final Model model;
  private final GuardedModel guarded;
  private final Clock clock;
  private final List<String> features;

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
    this.model = model;
    this.guarded =
        breakerClock == null
            ? new GuardedModel(model, config.breakerSettings())
            : new GuardedModel(model, config.breakerSettings(), breakerClock);
    this.clock = clock;
    this.features = manifest.features();
  }

  /** The model behind its circuit breaker (state, counters, transition listener). */
  public GuardedModel guarded() {
    return guarded;
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
    GuardedModel.Result result = guarded.score(rows, batch.size());
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
              .setModelVersion(result.fallback() ? FALLBACK_VERSION : model.manifest().version())
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
    if (!spec.equals(model.manifest().featureSpecVersion())) {
      throw new InvalidRecordException(
          "enriched.feature_spec_version",
          spec,
          "must be " + model.manifest().featureSpecVersion() + " for this model");
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
