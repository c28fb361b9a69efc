package io.decisionflow.models.train;

import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.framework.optimizers.Momentum;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Trains a multi-layer perceptron with TensorFlow Java: {@code score = sigmoid(relu(...
 * relu(standardize(x) W1 + b1) ...) Wout + bout)}, hidden layers of {@link Options#hidden()} units,
 * mini-batch gradient descent with momentum (tensorflow-framework's {@link Momentum}).
 *
 * <p>The exported SavedModel has the same signature as {@link LogisticRegressionTrainer}'s: input
 * {@value LogisticRegressionTrainer#INPUT} float32 {@code [-1, F]} of raw features, output {@value
 * LogisticRegressionTrainer#OUTPUT} float32 {@code [-1, 1]}, so the score stage serves either.
 * Standardization is in the graph as constants, as for the logistic regression.
 *
 * <p>The loss is the mean binary cross-entropy plus {@code l2 * sum(W^2)} over the weight matrices.
 * Weights start He-uniform ({@code U(-sqrt(6 / fan_in), sqrt(6 / fan_in))}) from a {@link Random}
 * seeded by {@link Options#seed()}, biases at zero except the output bias, which starts at the
 * logit of the training positive rate. Batches are shuffled with the same seed.
 *
 * <p><b>Determinism.</b> The initial weights and the batch order depend on the seed only, the
 * session runs on one thread (intra- and inter-op parallelism 1), and {@code ApplyMomentum} has no
 * unordered side variables (unlike tensorflow-framework 1.0.0's Adam, see {@link
 * LogisticRegressionTrainer}), so two runs on the same machine give identical weights. Results may
 * differ in the last bits across CPUs or TensorFlow builds (different vectorized kernels).
 */
public final class MlpTrainer {

  private MlpTrainer() {}

  /**
   * How to train.
   *
   * @param hidden units of each hidden layer, at least one layer
   * @param epochs passes over the training data, at least 1
   * @param batchSize rows per optimizer step, at least 1
   * @param learningRate step size, positive
   * @param momentum momentum of the updates, in [0, 1)
   * @param seed seed of the initial weights and the batch shuffling
   * @param l2 weight of the L2 penalty on the weight matrices, zero or positive
   */
  public record Options(
      List<Integer> hidden,
      int epochs,
      int batchSize,
      float learningRate,
      float momentum,
      long seed,
      float l2) {

    public Options {
      if (hidden == null || hidden.isEmpty() || hidden.stream().anyMatch(h -> h == null || h < 1)) {
        throw new IllegalArgumentException(
            "hidden must list at least one layer of at least 1 unit, was " + hidden);
      }
      hidden = List.copyOf(hidden);
      if (epochs < 1) {
        throw new IllegalArgumentException("epochs must be at least 1, was " + epochs);
      }
      if (batchSize < 1) {
        throw new IllegalArgumentException("batchSize must be at least 1, was " + batchSize);
      }
      if (!(learningRate > 0) || !Float.isFinite(learningRate)) {
        throw new IllegalArgumentException("learningRate must be positive, was " + learningRate);
      }
      if (!(momentum >= 0 && momentum < 1)) {
        throw new IllegalArgumentException("momentum must be in [0, 1), was " + momentum);
      }
      if (!(l2 >= 0) || !Float.isFinite(l2)) {
        throw new IllegalArgumentException("l2 must be zero or positive, was " + l2);
      }
    }

    /** The architecture, e.g. {@code mlp 8-32-16-1} for 8 features. */
    public String architecture(int features) {
      return "mlp "
          + features
          + "-"
          + hidden.stream().map(String::valueOf).collect(Collectors.joining("-"))
          + "-1";
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
    double positives = 0;
    for (float label : y) {
      positives += label;
    }
    double rate = Math.min(Math.max(positives / rows, 1e-4), 1 - 1e-4);
    Random random = new Random(options.seed());

    Graph graph = new Graph();
    Session session = null;
    try {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> input =
          tf.withName(LogisticRegressionTrainer.INPUT)
              .placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, features)));
      Placeholder<TFloat32> labels =
          tf.withName("labels").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 1)));
      Operand<TFloat32> h =
          tf.withName("standardized")
              .math
              .div(
                  tf.math.sub(input, tf.withName("feature_mean").constant(mean)),
                  tf.withName("feature_std").constant(std));
      Operand<TFloat32> penalty = null;
      int fanIn = features;
      for (int layer = 0; layer < options.hidden().size(); layer++) {
        int units = options.hidden().get(layer);
        Variable<TFloat32> w =
            tf.withName("weights_" + layer).variable(tf.constant(heUniform(fanIn, units, random)));
        Variable<TFloat32> b = tf.withName("bias_" + layer).variable(tf.constant(new float[units]));
        h = tf.withName("hidden_" + layer).nn.relu(tf.math.add(tf.linalg.matMul(h, w), b));
        penalty = addPenalty(tf, penalty, w);
        fanIn = units;
      }
      Variable<TFloat32> wOut =
          tf.withName("weights_out").variable(tf.constant(heUniform(fanIn, 1, random)));
      Variable<TFloat32> bOut =
          tf.withName("bias_out")
              .variable(tf.constant(new float[] {(float) Math.log(rate / (1 - rate))}));
      penalty = addPenalty(tf, penalty, wOut);
      Operand<TFloat32> logits = tf.withName("logits").math.add(tf.linalg.matMul(h, wOut), bOut);
      Operand<TFloat32> score = tf.withName(LogisticRegressionTrainer.OUTPUT).math.sigmoid(logits);

      // Binary cross-entropy with logits: softplus(z) - y * z.
      Operand<TFloat32> crossEntropy =
          tf.math.mean(
              tf.math.sub(tf.math.softplus(logits), tf.math.mul(labels, logits)),
              tf.constant(new int[] {0, 1}));
      Operand<TFloat32> loss = crossEntropy;
      if (options.l2() > 0) {
        loss = tf.math.add(crossEntropy, tf.math.mul(tf.constant(options.l2()), penalty));
      }
      loss = tf.withName("loss").identity(loss);
      Op minimize =
          new Momentum(graph, options.learningRate(), options.momentum(), false).minimize(loss);

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
      Signature signature =
          Signature.builder(LogisticRegressionTrainer.SIGNATURE)
              .methodName("tensorflow/serving/predict")
              .input(LogisticRegressionTrainer.INPUT, input)
              .output(LogisticRegressionTrainer.OUTPUT, score)
              .build();
      return new Trained(graph, session, input, score, signature, features, lossPerEpoch);
    } catch (RuntimeException | Error e) {
      if (session != null) {
        session.close();
      }
      graph.close();
      throw e;
    }
  }

  /** {@code sum(w^2)} added to {@code penalty}. */
  private static Operand<TFloat32> addPenalty(
      Ops tf, Operand<TFloat32> penalty, Variable<TFloat32> w) {
    // Through an Identity: the gradient of Square taken directly on the reference-typed output of
    // the variable crashes TF_AddGradients in TF Java 1.1.0 (see LogisticRegressionTrainer).
    Operand<TFloat32> sum = tf.sum(tf.math.square(tf.identity(w)), tf.constant(new int[] {0, 1}));
    return penalty == null ? sum : tf.math.add(penalty, sum);
  }

  private static float[][] heUniform(int fanIn, int units, Random random) {
    double limit = Math.sqrt(6.0 / fanIn);
    float[][] w = new float[fanIn][units];
    for (int i = 0; i < fanIn; i++) {
      for (int j = 0; j < units; j++) {
        w[i][j] = (float) ((2 * random.nextDouble() - 1) * limit);
      }
    }
    return w;
  }

  /** A trained model, held in memory until closed. Thread-safe. */
  public static final class Trained extends SessionModel {

    private Trained(
        Graph graph,
        Session session,
        Placeholder<TFloat32> input,
        Operand<TFloat32> score,
        Signature signature,
        int features,
        float[] lossPerEpoch) {
      super(graph, session, input, score, signature, features, lossPerEpoch);
    }
  }
}
