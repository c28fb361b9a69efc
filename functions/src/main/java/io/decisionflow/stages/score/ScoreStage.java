package io.decisionflow.stages.score;

import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Feature;
import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.enrich.FeatureSpec;
import java.time.Clock;
import java.util.List;

/** Scores routed transactions with the model of one slot. */
public final class ScoreStage {

  private final ScoreConfig config;
  private final Model model;
  private final Clock clock;
  private final List<String> features;

  /**
   * @throws ConfigException if the model was trained on another feature spec than the one enrich
   *     computes
   */
  public ScoreStage(ScoreConfig config, Model model, Clock clock) {
    ModelManifest manifest = model.manifest();
    if (!FeatureSpec.VERSION.equals(manifest.featureSpecVersion())
        || !FeatureSpec.NAMES.equals(manifest.features())) {
      throw new ConfigException(
          "userConfig.modelLocation: model "
              + manifest.name()
              + " "
              + manifest.version()
              + " takes feature spec "
              + manifest.featureSpecVersion()
              + " "
              + manifest.features()
              + " but enrich computes "
              + FeatureSpec.VERSION
              + " "
              + FeatureSpec.NAMES
              + "; deploy a model trained on feature spec "
              + FeatureSpec.VERSION);
    }
    this.config = config;
    this.model = model;
    this.clock = clock;
    this.features = manifest.features();
  }

  /** Scores one request. */
  public Score score(ScoringRequest request) {
    float[] row = featureRow(request);
    float score = model.score(row, 1)[0];
    EnrichedTransaction enriched = request.getEnriched();
    ScoringRequest stamped =
        request.toBuilder()
            .setEnriched(
                enriched.toBuilder()
                    .setLineage(enriched.getLineage().toBuilder().setScoredAtMs(clock.millis())))
            .build();
    return Score.newBuilder()
        .setRequest(stamped)
        .setModelSlot(config.modelSlot)
        .setModelVersion(model.manifest().version())
        .setScore(score)
        .setFallback(false)
        .build();
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
