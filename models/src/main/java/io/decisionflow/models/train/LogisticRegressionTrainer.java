package io.decisionflow.models.train;

import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.framework.optimizers.GradientDescent;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Trains a logistic regression, {@code score = sigmoid(standardize(x) W + b)}, with TensorFlow Java
 * and mini-batch gradient descent (tensorflow-framework's {@link GradientDescent}).
 *
 * <p>Standardization is part of the graph: the per-feature mean and standard deviation of the
 * training data are computed in Java and baked into the graph as constants, so the trained (and
 * exported) model takes raw features. The loss is the mean binary cross-entropy plus {@code l2 *
 * sum(W^2)} (the bias is not penalized). Weights start at zero and batches are shuffled with a
 * {@link Random} seeded by {@link Options#seed()}; the graph runs on one thread, so training is
 * deterministic given the data and the options.
 *
 * <p>Plain gradient descent rather than tensorflow-framework's {@code Adam}: Adam 1.0.0 updates its
 * {@code beta1_power}/{@code beta2_power} variables without ordering them after the {@code
 * ApplyAdam} ops that read them, so two runs with the same seed give different weights. On
 * standardized features gradient descent converges as well for this convex loss.
 */
public final class LogisticRegressionTrainer {

  /** Key of the exported signature. */
  public static final String SIGNATURE = "serving_default";

  /** Input key of the exported signature: raw features, float32 {@code [-1, F]}. */
  public static final String INPUT = "features";

  /** Output key of the exported signature: probability, float32 {@code [-1, 1]}. */
  public static final String OUTPUT = "score";

  private LogisticRegressionTrainer() {}

  /**
   * How to train.
   *
   * @param epochs passes over the training data, at least 1
   * @param batchSize rows per optimizer step, at least 1
   * @param learningRate step size of gradient descent, positive
   * @param seed seed of the batch shuffling
   * @param l2 weight of the L2 penalty {@code l2 * sum(W^2)}, zero or positive
   */
  public record Options(int epochs, int batchSize, float learningRate, long seed, float l2) {

    public Options {
      if (epochs < 1) {
        throw new IllegalArgumentException("epochs must be at least 1, was " + epochs);
      }
      if (batchSize < 1) {
        throw new IllegalArgumentException("batchSize must be at least 1, was " + batchSize);
      }
      if (!(learningRate > 0) || !Float.isFinite(learningRate)) {
        throw new IllegalArgumentException("learningRate must be positive, was " + learningRate);
      }
      if (!(l2 >= 0) || !Float.isFinite(l2)) {
        throw new IllegalArgumentException("l2 must be zero or positive, was " + l2);
      }
    }

    /** 10 epochs of batches of 128 at learning rate 0.2, seed 42, no L2 penalty. */
    public static Options defaults() {
      return new Options(10, 128, 0.2f, 42L, 0f);
    }
  }

  /**
   * Trains on {@code rows} rows.
   *
   * @param x {@code rows * features} raw features, row by row
   * @param y {@code rows} labels, 0 or 1
   * @return the trained model; close it when done
   * @throws IllegalArgumentException if the sizes do not match or a value is not finite
   */
  public static Trained train(float[] x, float[] y, int rows, int features, Options options) {
    if (options == null) {
      throw new IllegalArgumentException("options is null");
    }
    Training.validate(x, y, rows, features);

    float[] mean = new float[features];
    float[] std = new float[features];
    Training.standardization(x, rows, features, mean, std);

    Graph graph = new Graph();
    Session session = null;
    try {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> input =
          tf.withName(INPUT).placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, features)));
      Placeholder<TFloat32> labels =
          tf.withName("labels").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 1)));
      Operand<TFloat32> standardized =
          tf.withName("standardized")
              .math
              .div(
                  tf.math.sub(input, tf.withName("feature_mean").constant(mean)),
                  tf.withName("feature_std").constant(std));
      Variable<TFloat32> weights =
          tf.withName("weights").variable(tf.constant(new float[features][1]));
      Variable<TFloat32> bias = tf.withName("bias").variable(tf.constant(new float[1]));
      Operand<TFloat32> logits =
          tf.withName("logits").math.add(tf.linalg.matMul(standardized, weights), bias);
      Operand<TFloat32> score = tf.withName(OUTPUT).math.sigmoid(logits);

      // Binary cross-entropy with logits: softplus(z) - y * z.
      Operand<TFloat32> crossEntropy =
          tf.math.mean(
              tf.math.sub(tf.math.softplus(logits), tf.math.mul(labels, logits)),
              tf.constant(new int[] {0, 1}));
      Operand<TFloat32> loss = crossEntropy;
      if (options.l2() > 0) {
        // Through an Identity: the gradient of Square taken directly on the reference-typed output
        // of the variable crashes TF_AddGradients (SIGSEGV in Node::output_type) in TF Java 1.1.0.
        loss =
            tf.math.add(
                crossEntropy,
                tf.math.mul(
                    tf.constant(options.l2()),
                    tf.sum(tf.math.square(tf.identity(weights)), tf.constant(new int[] {0, 1}))));
      }
      loss = tf.withName("loss").identity(loss);
      Op minimize = new GradientDescent(graph, options.learningRate()).minimize(loss);

      session = new Session(graph, Training.singleThreaded());
      session.initialize();
      float[] lossPerEpoch =
          Training.run(
              session,
              input,
              labels,
              minimize,
              crossEntropy,
              x,
              y,
              rows,
              features,
              options.epochs(),
              options.batchSize(),
              options.seed());

      float[] w = new float[features];
      float[] b = new float[1];
      try (Result result = session.runner().fetch(weights).fetch(bias).run()) {
        ((TFloat32) result.get(0)).copyTo(DataBuffers.of(w, false, false));
        ((TFloat32) result.get(1)).copyTo(DataBuffers.of(b, false, false));
      }
      Signature signature =
          Signature.builder(SIGNATURE)
              .methodName("tensorflow/serving/predict")
              .input(INPUT, input)
              .output(OUTPUT, score)
              .build();
      return new Trained(
          graph, session, input, score, signature, features, mean, std, w, b[0], lossPerEpoch);
    } catch (RuntimeException | Error e) {
      if (session != null) {
        session.close();
      }
      graph.close();
      throw e;
    }
  }

  /** A trained model, held in memory until closed. Thread-safe. */
  public static final class Trained extends SessionModel {

    private final float[] mean;
    private final float[] std;
    private final float[] weights;
    private final float bias;

    private Trained(
        Graph graph,
        Session session,
        Placeholder<TFloat32> input,
        Operand<TFloat32> score,
        Signature signature,
        int features,
        float[] mean,
        float[] std,
        float[] weights,
        float bias,
        float[] lossPerEpoch) {
      super(graph, session, input, score, signature, features, lossPerEpoch);
      this.mean = mean;
      this.std = std;
      this.weights = weights;
      this.bias = bias;
    }

    /** Per-feature mean of the training data, subtracted before the linear layer. */
    public float[] featureMeans() {
      return mean.clone();
    }

    /** Per-feature standard deviation of the training data (1 for constant features). */
    public float[] featureStds() {
      return std.clone();
    }

    /** Weights of the standardized features. */
    public float[] weights() {
      return weights.clone();
    }

    /** Bias of the linear layer. */
    public float bias() {
      return bias;
    }
  }
}
