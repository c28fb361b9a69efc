package io.decisionflow.stages.score;

import io.decisionflow.schemas.Topics;
import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.score.store.ObjectStoreSettings;
import java.net.URI;
import java.nio.file.Path;

/** Configuration of a score function ({@code userConfig} of its function config). */
public final class ScoreConfig implements StageConfigs.Validated {

  /** Name of the function secret holding the object store's access key id. */
  public static final String SECRET_ACCESS_KEY = "modelStoreAccessKey";

  /** Name of the function secret holding the object store's secret access key. */
  public static final String SECRET_SECRET_KEY = "modelStoreSecretKey";

  /** Model slot this function serves; it reads {@code scoring-<modelSlot>}. */
  public String modelSlot;

  /**
   * Optional. Directory of the model to serve until the slot has a model announced on the {@code
   * models} topic (SavedModel plus {@code manifest.json}): an absolute path or a {@code file:} URI,
   * readable on every worker that runs the function. An announced model always wins.
   */
  public String modelLocation;

  /**
   * Optional: the S3-compatible object store that {@code s3://} model URIs live in ({@code
   * endpoint}, {@code region}, {@code pathStyle}); absent means AWS S3 with its defaults. The
   * credentials come from the function's secrets {@code modelStoreAccessKey} and {@code
   * modelStoreSecretKey}, else from the AWS default credentials chain; never from userConfig.
   */
  public ObjectStoreSettings modelStore;

  /**
   * Where the function keeps models it downloaded, one directory per sha256; default {@code
   * decisionflow-models} in the JVM's temporary directory.
   */
  public String modelCacheDir;

  /** Most records scored by one model call; in-flight records are batched up to this. */
  public int maxBatchSize = 64;

  /** Longest a record waits for its batch to fill, in milliseconds; 0 scores at once. */
  public int maxBatchWaitMs = 1;

  /** A model call slower than this counts as slow for the circuit breaker, in milliseconds. */
  public int latencyBudgetMs = 50;

  /** Share of failed model calls, in percent, that opens the circuit breaker. */
  public float failureRatePercent = 50;

  /** Share of slow model calls, in percent, that opens the circuit breaker. */
  public float slowCallRatePercent = 80;

  /** Model calls the breaker judges rates over (a sliding window). */
  public int breakerWindowCalls = 20;

  /** How long the breaker stays open before probing the model again, in seconds. */
  public int breakerOpenSeconds = 10;

  /** Probe calls let through while half open. */
  public int breakerProbes = 3;

  /**
   * How long the stage's producers wait to batch its output, in microseconds; 0 sends each record
   * alone, -1 leaves publishing to the function runtime (which always waits 10 ms in Pulsar 4.0).
   */
  public long outputBatchingDelayMicros = 1000;

  @Override
  public void validate() {
    StageConfigs.requireOutputBatchingDelay(outputBatchingDelayMicros, true);
    ConfigException.require(
        maxBatchSize >= 1 && maxBatchSize <= 4096,
        "maxBatchSize",
        maxBatchSize,
        "must be between 1 and 4096");
    ConfigException.require(
        maxBatchWaitMs >= 0 && maxBatchWaitMs <= 1000,
        "maxBatchWaitMs",
        maxBatchWaitMs,
        "must be between 0 and 1000");
    ConfigException.require(
        latencyBudgetMs >= 1, "latencyBudgetMs", latencyBudgetMs, "must be at least 1");
    ConfigException.require(
        failureRatePercent > 0 && failureRatePercent <= 100,
        "failureRatePercent",
        failureRatePercent,
        "must be in (0, 100]");
    ConfigException.require(
        slowCallRatePercent > 0 && slowCallRatePercent <= 100,
        "slowCallRatePercent",
        slowCallRatePercent,
        "must be in (0, 100]");
    ConfigException.require(
        breakerWindowCalls >= 1, "breakerWindowCalls", breakerWindowCalls, "must be at least 1");
    ConfigException.require(
        breakerOpenSeconds >= 1, "breakerOpenSeconds", breakerOpenSeconds, "must be at least 1");
    ConfigException.require(
        breakerProbes >= 1, "breakerProbes", breakerProbes, "must be at least 1");
    ConfigException.require(
        modelSlot != null && !modelSlot.isBlank(), "modelSlot", modelSlot, "is required");
    try {
      Topics.scoring(modelSlot);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("userConfig.modelSlot: " + e.getMessage(), e);
    }
    if (modelStore != null) {
      ConfigException.require(
          modelStore.accessKey() == null && modelStore.secretKey() == null,
          "modelStore",
          "<credentials>",
          "must not hold credentials: put them in the function's secrets "
              + SECRET_ACCESS_KEY
              + " and "
              + SECRET_SECRET_KEY);
      modelStore.validate();
    }
    if (modelCacheDir != null) {
      ConfigException.require(
          Path.of(modelCacheDir).isAbsolute(),
          "modelCacheDir",
          modelCacheDir,
          "must be an absolute path");
    }
    if (modelLocation != null) {
      ConfigException.require(
          !modelLocation.isBlank(),
          "modelLocation",
          modelLocation,
          "must be a model directory (absolute path or file: URI) when given");
      ConfigException.require(
          modelPath().isAbsolute(),
          "modelLocation",
          modelLocation,
          "must be an absolute path or file: URI");
    }
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

  /** The directory downloaded models are kept in. */
  public Path modelCachePath() {
    return modelCacheDir != null
        ? Path.of(modelCacheDir)
        : Path.of(System.getProperty("java.io.tmpdir"), "decisionflow-models");
  }

  /** The circuit breaker's settings. */
  public GuardedModel.Settings breakerSettings() {
    return new GuardedModel.Settings(
        java.time.Duration.ofMillis(latencyBudgetMs),
        failureRatePercent,
        slowCallRatePercent,
        breakerWindowCalls,
        Math.min(breakerWindowCalls, Math.max(1, breakerWindowCalls / 2)),
        java.time.Duration.ofSeconds(breakerOpenSeconds),
        breakerProbes);
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
