package io.decisionflow.stages.score;

import io.decisionflow.schemas.control.ModelDeployment;
import io.decisionflow.stages.enrich.FeatureSpec;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Function;

/**
 * Turns an announced {@link ModelDeployment} into a model ready to serve, or refuses it: fetches
 * the artifact (verifying its sha256), opens the SavedModel, checks its manifest against the
 * announcement and the enrich stage's feature spec, and warms it up at batch size 1 and at the
 * largest batch size so the first real batch does not pay for graph initialisation.
 */
public final class ModelLoader {

  /** Fetches a model directory to local disk, verified against its sha256. */
  @FunctionalInterface
  public interface Fetcher {
    /**
     * A local directory holding exactly the model at {@code uri}.
     *
     * @throws RuntimeException with a message naming the URI if it cannot be fetched or does not
     *     match {@code sha256}
     */
    Path localCopy(String uri, String sha256);
  }

  private final Fetcher fetcher;
  private final Function<Path, Model> opener;
  private final int warmUpBatchSize;

  /**
   * @param fetcher where model directories come from
   * @param opener opens a local model directory, e.g. {@code TensorFlowModel::load}
   * @param warmUpBatchSize the largest batch the model will see
   */
  public ModelLoader(Fetcher fetcher, Function<Path, Model> opener, int warmUpBatchSize) {
    this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
    this.opener = Objects.requireNonNull(opener, "opener");
    if (warmUpBatchSize < 1) {
      throw new IllegalArgumentException(
          "warmUpBatchSize must be at least 1, was " + warmUpBatchSize);
    }
    this.warmUpBatchSize = warmUpBatchSize;
  }

  /**
   * The announced model, loaded, checked and warmed up. The caller owns (and closes) it.
   *
   * @throws ModelRefusedException saying which version and why it cannot serve
   */
  public Model load(ModelDeployment announced) {
    String what = describe(announced);
    if (!FeatureSpec.VERSION.equals(announced.getFeatureSpecVersion())) {
      throw new ModelRefusedException(
          what
              + " takes feature spec '"
              + announced.getFeatureSpecVersion()
              + "' but enrich computes "
              + FeatureSpec.VERSION
              + "; publish a model trained on feature spec "
              + FeatureSpec.VERSION);
    }
    Path dir;
    try {
      dir = fetcher.localCopy(announced.getUri(), announced.getSha256());
    } catch (RuntimeException e) {
      throw new ModelRefusedException(what + ": " + e.getMessage(), e);
    }
    Model model;
    try {
      model = opener.apply(dir);
    } catch (RuntimeException e) {
      throw new ModelRefusedException(what + ": cannot open it: " + e.getMessage(), e);
    }
    try {
      check(announced, model, what);
      warmUp(model, what);
      return model;
    } catch (RuntimeException e) {
      model.close();
      throw e instanceof ModelRefusedException refused
          ? refused
          : new ModelRefusedException(what + ": " + e.getMessage(), e);
    }
  }

  private static void check(ModelDeployment announced, Model model, String what) {
    ModelManifest manifest = model.manifest();
    if (!announced.getModelName().equals(manifest.name())
        || !announced.getModelVersion().equals(manifest.version())) {
      throw new ModelRefusedException(
          what
              + ": its manifest says "
              + manifest.name()
              + " "
              + manifest.version()
              + "; the announcement and the artifact must name the same version");
    }
    if (!manifest.takesCurrentFeatureSpec()) {
      throw new ModelRefusedException(
          what + ": " + manifest.featureSpecMismatch("enrich computes"));
    }
  }

  /**
   * Scores rows of zeros at batch size 1 and at the largest batch size; the scores must be in [0,
   * 1].
   */
  private void warmUp(Model model, String what) {
    int width = FeatureSpec.NAMES.size();
    for (int rows : new int[] {1, warmUpBatchSize}) {
      float[] scores = model.score(new float[rows * width], rows);
      if (scores == null || scores.length != rows) {
        throw new ModelRefusedException(
            what
                + ": warm-up returned "
                + (scores == null ? "nothing" : scores.length + " scores")
                + " for "
                + rows
                + " rows");
      }
      for (float score : scores) {
        if (!(score >= 0f && score <= 1f)) {
          throw new ModelRefusedException(
              what
                  + ": warm-up scored "
                  + score
                  + " for a row of zeros, not a probability in [0, 1]");
        }
      }
    }
  }

  /** "model fraud v2 for slot champion (s3://models/fraud/v2/)". */
  public static String describe(ModelDeployment d) {
    return "model "
        + d.getModelName()
        + " "
        + d.getModelVersion()
        + " for slot "
        + d.getModelSlot()
        + " ("
        + d.getUri()
        + ")";
  }
}
