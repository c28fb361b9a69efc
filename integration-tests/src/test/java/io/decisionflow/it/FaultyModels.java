package io.decisionflow.it;

import io.decisionflow.stages.enrich.FeatureSpec;
import io.decisionflow.stages.score.ModelManifest;
import io.decisionflow.stages.score.SavedModelScorer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;

/**
 * Real TensorFlow SavedModels (model directories with a {@code manifest.json}, loadable by {@link
 * io.decisionflow.stages.score.TensorFlowModel#load}) that misbehave on demand, to drive the score
 * function's circuit breaker in tests.
 */
final class FaultyModels {

  /** Model name in the manifest. */
  static final String NAME = "fraud";

  /** Model version in the manifest. */
  static final String VERSION = "faulty-v1";

  /** Index of {@code amount_to_card_mean} in a feature spec row. */
  private static final int AMOUNT_TO_CARD_MEAN = FeatureSpec.NAMES.indexOf("amount_to_card_mean");

  /** Index of {@code is_high_risk_country} in a feature spec row. */
  private static final int IS_HIGH_RISK_COUNTRY = FeatureSpec.NAMES.indexOf("is_high_risk_country");

  /** Weight of {@code amount_to_card_mean} in the fixed logistic regression. */
  static final float RATIO_WEIGHT = 0.3f;

  /** Weight of {@code is_high_risk_country} in the fixed logistic regression. */
  static final float HIGH_RISK_COUNTRY_WEIGHT = 1.5f;

  /** Bias of the fixed logistic regression. */
  static final float BIAS = -3f;

  private FaultyModels() {}

  /**
   * Writes into {@code dir} (created if missing) a model for feature spec {@value
   * FeatureSpec#VERSION} that scores a row with a fixed logistic regression, {@code sigmoid(0.3 *
   * amount_to_card_mean + 1.5 * is_high_risk_country - 3)} (always in [0, 1]), except when its
   * {@code amount_log} is above {@code (float) ln(1 + amount)}: then it returns NaN for that row
   * only. So a transaction of more than {@code amount} (by more than float32 rounding of the log)
   * makes the call fail for {@link io.decisionflow.stages.score.GuardedModel}, and smaller ones
   * score normally.
   *
   * <p>The graph is {@code score = SelectV2(amount_log > T, NaN, sigmoid(features W + b))}, with
   * {@code W}, {@code b} and {@code T} constants: no variables, no training.
   *
   * @return {@code dir}
   * @throws UncheckedIOException if the model cannot be written
   */
  static Path nanAboveAmount(Path dir, double amount) {
    return write(dir, amount, VERSION, SavedModelScorer.SIGNATURE);
  }

  /**
   * Writes the model of {@link #nanAboveAmount} under another version and signature name (a model
   * whose signature is not {@code serving_default} cannot serve).
   */
  static Path write(Path dir, double amount, String version, String signature) {
    if (!(amount >= 0) || Double.isInfinite(amount)) {
      throw new IllegalArgumentException("amount must be finite and >= 0, was " + amount);
    }
    float threshold = (float) Math.log1p(amount);
    int features = FeatureSpec.size();
    float[][] weights = new float[features][1];
    weights[AMOUNT_TO_CARD_MEAN][0] = RATIO_WEIGHT;
    weights[IS_HIGH_RISK_COUNTRY][0] = HIGH_RISK_COUNTRY_WEIGHT;
    try {
      Files.createDirectories(dir);
      try (Graph graph = new Graph()) {
        Ops tf = Ops.create(graph);
        Placeholder<TFloat32> input =
            tf.withName(SavedModelScorer.INPUT)
                .placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, features)));
        Operand<TFloat32> probability =
            tf.withName("probability")
                .math
                .sigmoid(
                    tf.math.add(
                        tf.linalg.matMul(input, tf.withName("weights").constant(weights)),
                        tf.withName("bias").constant(new float[] {BIAS})));
        // amount_log, the first feature, as [-1, 1]: the rows that must fail.
        Operand<TFloat32> amountLog =
            tf.withName("amount_log")
                .slice(input, tf.constant(new int[] {0, 0}), tf.constant(new int[] {-1, 1}));
        Operand<TBool> fails =
            tf.withName("fails")
                .math
                .greater(amountLog, tf.withName("amount_log_threshold").constant(threshold));
        // SelectV2 broadcasts the scalar NaN to [-1, 1].
        Operand<TFloat32> score =
            tf.withName(SavedModelScorer.OUTPUT)
                .select(fails, tf.withName("nan").constant(Float.NaN), probability);
        try (Session session = new Session(graph)) {
          SavedModelBundle.exporter(dir.toString())
              .withTags(SavedModelScorer.TAG)
              .withSession(session)
              .withSignature(
                  Signature.builder(signature)
                      .methodName("tensorflow/serving/predict")
                      .input(SavedModelScorer.INPUT, input)
                      .output(SavedModelScorer.OUTPUT, score)
                      .build())
              .export();
        }
      }
      new ModelManifest(
              NAME,
              version,
              FeatureSpec.VERSION,
              FeatureSpec.NAMES,
              0.5,
              Map.of(),
              Map.of(
                  "note",
                  "returns NaN when amount_log > ln(1+" + amount + ") = " + threshold,
                  "fails_above_amount",
                  amount))
          .write(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the faulty model to " + dir, e);
    }
    return dir;
  }
}
