package io.decisionflow.stages.score;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.decisionflow.stages.enrich.FeatureSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What a model directory says about its model, in {@code manifest.json} next to the SavedModel.
 *
 * @param name model family, e.g. {@code fraud}
 * @param version model version, e.g. {@code v1}
 * @param featureSpecVersion feature spec the model was trained on
 * @param features feature names in input order
 * @param threshold recommended alert threshold on the score
 * @param metrics held-out metrics of training (e.g. auc, log_loss)
 * @param training how the model was trained (data seed, size, ...)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ModelManifest(
    String name,
    String version,
    String featureSpecVersion,
    List<String> features,
    double threshold,
    Map<String, Double> metrics,
    Map<String, Object> training) {

  public static final String FILE_NAME = "manifest.json";

  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Whether the model takes the feature spec the enrich stage computes ({@link FeatureSpec}). */
  public boolean takesCurrentFeatureSpec() {
    return FeatureSpec.VERSION.equals(featureSpecVersion) && FeatureSpec.NAMES.equals(features);
  }

  /** Why the model does not fit, e.g. "model fraud v1 takes feature spec v0 [...] but ...". */
  String featureSpecMismatch(String whoComputes) {
    return "model "
        + name
        + " "
        + version
        + " takes feature spec "
        + featureSpecVersion
        + " "
        + features
        + " but "
        + whoComputes
        + " "
        + FeatureSpec.VERSION
        + " "
        + FeatureSpec.NAMES;
  }

  /** Reads {@code <dir>/manifest.json}. */
  public static ModelManifest read(Path dir) {
    Path file = dir.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(
          "model at " + dir + " has no " + FILE_NAME + ": is it a decisionflow model directory?");
    }
    try {
      return MAPPER.readValue(file.toFile(), ModelManifest.class);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** Writes {@code <dir>/manifest.json}. */
  public void write(Path dir) throws IOException {
    MAPPER.writeValue(dir.resolve(FILE_NAME).toFile(), this);
  }
}
