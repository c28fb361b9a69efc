package io.decisionflow.stages.score;

import io.decisionflow.schemas.Topics;
import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.StageConfigs;
import java.net.URI;
import java.nio.file.Path;

/** Configuration of a score function ({@code userConfig} of its function config). */
public final class ScoreConfig implements StageConfigs.Validated {

  /** Model slot this function serves; it reads {@code scoring-<modelSlot>}. */
  public String modelSlot;

  /**
   * Directory of the model (SavedModel plus {@code manifest.json}): an absolute path or a {@code
   * file:} URI, readable on every worker that runs the function.
   */
  public String modelLocation;

  @Override
  public void validate() {
    ConfigException.require(
        modelSlot != null && !modelSlot.isBlank(), "modelSlot", modelSlot, "is required");
    try {
      Topics.scoring(modelSlot);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("userConfig.modelSlot: " + e.getMessage(), e);
    }
    ConfigException.require(
        modelLocation != null && !modelLocation.isBlank(),
        "modelLocation",
        modelLocation,
        "is required: set it to the model directory (absolute path or file: URI)");
    ConfigException.require(
        modelPath().isAbsolute(),
        "modelLocation",
        modelLocation,
        "must be an absolute path or file: URI");
  }

  /**
   * The model directory, checked to exist. Called where the model is loaded (the worker), not at
   * validation, so that a config can be validated on a machine that does not hold the model.
   */
  public Path existingModelPath() {
    Path dir = modelPath();
    ConfigException.require(
        dir.toFile().isDirectory(),
        "modelLocation",
        modelLocation,
        "must be an existing model directory on this worker");
    return dir;
  }

  /** The model directory. */
  public Path modelPath() {
    if (modelLocation.startsWith("file:")) {
      try {
        return Path.of(URI.create(modelLocation));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(
            "userConfig.modelLocation: not a valid file: URI, was " + modelLocation, e);
      }
    }
    if (modelLocation.contains("://")) {
      throw new ConfigException(
          "userConfig.modelLocation: only local paths and file: URIs are supported, was "
              + modelLocation);
    }
    return Path.of(modelLocation);
  }
}
