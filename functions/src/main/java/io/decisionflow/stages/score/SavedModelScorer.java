package io.decisionflow.stages.score;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;

/**
 * Scores flat rows of features with a TensorFlow SavedModel.
 *
 * <p>The SavedModel must have the tag {@value #TAG} and a signature {@value #SIGNATURE} with one
 * input {@value #INPUT} (float32, shape {@code [-1, F]}) and one output {@value #OUTPUT} (float32,
 * shape {@code [-1, 1]}). The model runs on one thread per call (intra- and inter-op parallelism
 * 1); concurrent calls to {@link #score} are safe and run in parallel.
 */
public final class SavedModelScorer implements AutoCloseable {

  /** Tag of the meta graph to load. */
  public static final String TAG = "serve";

  /** Key of the signature to call. */
  public static final String SIGNATURE = "serving_default";

  /** Input key of the signature: float32 {@code [-1, F]}. */
  public static final String INPUT = "features";

  /** Output key of the signature: float32 {@code [-1, 1]}. */
  public static final String OUTPUT = "score";

  private final Path dir;
  private final SavedModelBundle bundle;
  private final SessionFunction function;
  private final int featureCount;
  private final AtomicBoolean closed = new AtomicBoolean();

  private SavedModelScorer(Path dir, SavedModelBundle bundle, SessionFunction function, int f) {
    this.dir = dir;
    this.bundle = bundle;
    this.function = function;
    this.featureCount = f;
  }

  /**
   * Loads the SavedModel in {@code dir}.
   *
   * @throws IllegalArgumentException if {@code dir} is not a directory holding a SavedModel with
   *     the expected tag and signature
   */
  public static SavedModelScorer load(Path dir) {
    if (dir == null) {
      throw new IllegalArgumentException("SavedModel directory is null");
    }
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("SavedModel directory " + dir + " does not exist");
    }
    if (!Files.isRegularFile(dir.resolve("saved_model.pb"))
        && !Files.isRegularFile(dir.resolve("saved_model.pbtxt"))) {
      throw new IllegalArgumentException(
          "directory " + dir + " is not a SavedModel: it has no saved_model.pb");
    }
    ConfigProto config =
        ConfigProto.newBuilder()
            .setIntraOpParallelismThreads(1)
            .setInterOpParallelismThreads(1)
            .build();
    SavedModelBundle bundle;
    try {
      bundle = SavedModelBundle.loader(dir.toString()).withTags(TAG).withConfigProto(config).load();
    } catch (TensorFlowException e) {
      throw new IllegalArgumentException(
          "cannot load SavedModel (tag " + TAG + ") from " + dir + ": " + e.getMessage(), e);
    }
    try {
      Signature signature =
          bundle.signatures().stream()
              .filter(s -> SIGNATURE.equals(s.key()))
              .findFirst()
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "SavedModel at " + dir + " has no signature " + SIGNATURE));
      Signature.TensorDescription input = signature.getInputs().get(INPUT);
      Signature.TensorDescription output = signature.getOutputs().get(OUTPUT);
      if (input == null || output == null) {
        throw new IllegalArgumentException(
            "signature "
                + SIGNATURE
                + " of SavedModel at "
                + dir
                + " must have input "
                + INPUT
                + " and output "
                + OUTPUT
                + ", has inputs "
                + signature.inputNames()
                + " and outputs "
                + signature.outputNames());
      }
      if (input.dataType != DataType.DT_FLOAT || output.dataType != DataType.DT_FLOAT) {
        throw new IllegalArgumentException(
            "signature "
                + SIGNATURE
                + " of SavedModel at "
                + dir
                + " must take and return float32, takes "
                + input.dataType
                + " and returns "
                + output.dataType);
      }
      Shape shape = input.shape;
      if (shape == null
          || shape.isUnknown()
          || shape.numDimensions() != 2
          || shape.get(1) <= 0
          || shape.get(1) > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            "input "
                + INPUT
                + " of SavedModel at "
                + dir
                + " must have shape [-1, F] with a known F, has "
                + shape);
      }
      SessionFunction function = bundle.function(SIGNATURE);
      return new SavedModelScorer(dir, bundle, function, (int) shape.get(1));
    } catch (RuntimeException e) {
      bundle.close();
      throw e;
    }
  }

  /** Number of features per row (F of the input shape {@code [-1, F]}). */
  public int featureCount() {
    return featureCount;
  }

  /** The SavedModel directory. */
  public Path directory() {
    return dir;
  }

  /**
   * Scores {@code rowCount} rows laid out one after the other in {@code rows}.
   *
   * @param rows {@code rowCount * featureCount()} features, row by row
   * @return one probability per row
   * @throws IllegalArgumentException if {@code rows.length != rowCount * featureCount()}
   * @throws IllegalStateException if this scorer is closed
   */
  public float[] score(float[] rows, int rowCount) {
    if (rows == null) {
      throw new IllegalArgumentException("rows is null");
    }
    if (rowCount < 0 || (long) rowCount * featureCount != rows.length) {
      throw new IllegalArgumentException(
          "rows has "
              + rows.length
              + " values but "
              + rowCount
              + " rows of "
              + featureCount
              + " features need "
              + (long) rowCount * featureCount);
    }
    if (closed.get()) {
      throw new IllegalStateException("SavedModelScorer for " + dir + " is closed");
    }
    float[] scores = new float[rowCount];
    if (rowCount == 0) {
      return scores;
    }
    try (TFloat32 input =
            TFloat32.tensorOf(Shape.of(rowCount, featureCount), DataBuffers.of(rows, true, false));
        Result result = function.call(Map.<String, Tensor>of(INPUT, input))) {
      Tensor output =
          result
              .get(OUTPUT)
              .orElseThrow(
                  () -> new IllegalStateException("model at " + dir + " returned no " + OUTPUT));
      if (!(output instanceof TFloat32 out) || out.shape().size() != rowCount) {
        throw new IllegalStateException(
            "model at "
                + dir
                + " returned "
                + output.dataType()
                + " "
                + output.shape()
                + " for "
                + rowCount
                + " rows, expected float32 ["
                + rowCount
                + ", 1]");
      }
      out.copyTo(DataBuffers.of(scores, false, false));
    }
    return scores;
  }

  /** Closes the model. Idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      bundle.close();
    }
  }
}
