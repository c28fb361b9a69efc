package io.decisionflow.models.train;

import io.decisionflow.models.synthetic.LabelledFeatures;
import io.decisionflow.models.synthetic.TransactionGenerator;
import io.decisionflow.stages.enrich.FeatureSpec;
import io.decisionflow.stages.score.ModelDigest;
import io.decisionflow.stages.score.ModelManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Trains the fraud model on synthetic labelled transactions and exports it as a SavedModel with a
 * manifest. The build runs it, so no model file is ever committed or downloaded.
 */
@Command(
    name = "train-model",
    mixinStandardHelpOptions = true,
    description = "Train a fraud model on synthetic transactions and export it as a SavedModel.")
public final class TrainModel implements Callable<Integer> {

  @Option(names = "--output", required = true, description = "Model directory to (re)create.")
  Path output;

  @Option(
      names = "--version",
      defaultValue = "v1",
      description = "Model version (${DEFAULT-VALUE}).")
  String version;

  @Option(
      names = "--rows",
      defaultValue = "150000",
      description = "Transactions to generate (${DEFAULT-VALUE}).")
  int rows;

  @Option(names = "--seed", defaultValue = "42", description = "Data seed (${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--algorithm",
      defaultValue = "logistic",
      description =
          "logistic (logistic regression) or mlp (multi-layer perceptron)" + " (${DEFAULT-VALUE}).")
  Algorithm algorithm;

  @Option(
      names = "--epochs",
      description = "Training epochs (logistic 20, mlp " + MLP_EPOCHS + ").")
  Integer epochs;

  @Option(
      names = "--hidden",
      split = ",",
      defaultValue = "32,16",
      description = "Units of the MLP's hidden layers (${DEFAULT-VALUE}).")
  List<Integer> hidden;

  @Option(
      names = "--learning-rate",
      description = "Step size (logistic 0.2, mlp " + MLP_LEARNING_RATE + ").")
  Float learningRate;

  /** What to train. */
  enum Algorithm {
    logistic,
    mlp
  }

  static final int MLP_EPOCHS = 30;
  static final float MLP_LEARNING_RATE = 0.05f;

  public static void main(String[] args) {
    int code = new CommandLine(new TrainModel()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  @Override
  public Integer call() throws IOException {
    long started = System.nanoTime();
    TransactionGenerator generator =
        new TransactionGenerator(TransactionGenerator.Options.defaults(seed));
    LabelledFeatures all = LabelledFeatures.generate(generator, rows);
    int split = rows * 4 / 5;
    LabelledFeatures train = all.slice(0, split);
    LabelledFeatures test = all.slice(split, rows);

    Map<String, Object> training = new LinkedHashMap<>();
    training.put("generator", TransactionGenerator.class.getName());
    training.put("merchant_table_rows", generator.merchantTable().size());
    training.put("unknown_merchants", generator.unknownMerchants().size());
    training.put("seed", seed);
    training.put("rows", rows);
    training.put("train_rows", train.rows());
    training.put("test_rows", test.rows());
    String description;
    try (TrainedModel model = train(train, training)) {
      description = (String) training.get("architecture");
      float[] trainScores = model.predict(train.x(), train.rows());
      float[] testScores = model.predict(test.x(), test.rows());
      double threshold = bestF1Threshold(trainScores, train.y());
      double auc = Metrics.auc(testScores, test.y());
      double logLoss = Metrics.logLoss(testScores, test.y());
      double bayesAuc = test.bayesAuc();
      double bayesLogLoss = test.bayesLogLoss();
      double[] pr = precisionRecall(testScores, test.y(), threshold);

      deleteRecursively(output);
      Files.createDirectories(output.getParent());
      model.export(output);
      Map<String, Double> metrics = new LinkedHashMap<>();
      metrics.put("test_auc", auc);
      metrics.put("test_log_loss", logLoss);
      metrics.put("bayes_auc", bayesAuc);
      metrics.put("bayes_log_loss", bayesLogLoss);
      metrics.put("auc_ratio_to_bayes", auc / bayesAuc);
      metrics.put("test_precision", pr[0]);
      metrics.put("test_recall", pr[1]);
      metrics.put("test_fraud_rate", test.positiveRate());
      metrics.put("test_mean_fraud_probability", test.meanProbability());
      training.put(ModelDigest.MANIFEST_KEY, ModelDigest.of(output));
      new ModelManifest(
              "fraud",
              version,
              FeatureSpec.VERSION,
              List.copyOf(FeatureSpec.NAMES),
              threshold,
              metrics,
              training)
          .write(output);
      System.out.printf(
          Locale.ROOT,
          "trained fraud %s (%s) on %d rows (fraud rate %.3f) in %.1f s: test AUC %.4f"
              + " (Bayes-optimal %.4f, ratio %.3f), log-loss %.4f (Bayes %.4f), threshold %.2f"
              + " -> precision %.2f recall %.2f; wrote %s%n",
          version,
          description,
          rows,
          all.positiveRate(),
          (System.nanoTime() - started) / 1e9,
          auc,
          bayesAuc,
          auc / bayesAuc,
          logLoss,
          bayesLogLoss,
          threshold,
          pr[0],
          pr[1],
          output);
    }
    return 0;
  }

  /** Trains the chosen algorithm and records how in {@code training}. */
  private TrainedModel train(LabelledFeatures train, Map<String, Object> training) {
    int width = LabelledFeatures.WIDTH;
    if (algorithm == Algorithm.mlp) {
      MlpTrainer.Options options =
          new MlpTrainer.Options(
              hidden,
              epochs != null ? epochs : MLP_EPOCHS,
              256,
              learningRate != null ? learningRate : MLP_LEARNING_RATE,
              0.9f,
              seed,
              1e-5f);
      training.put("epochs", options.epochs());
      training.put("batch_size", options.batchSize());
      training.put("learning_rate", decimal(options.learningRate()));
      training.put("momentum", decimal(options.momentum()));
      training.put("l2", decimal(options.l2()));
      training.put("architecture", options.architecture(width));
      training.put(
          "algorithm",
          "multi-layer perceptron (ReLU hidden layers, sigmoid output, standardized inputs),"
              + " gradient descent with momentum, TensorFlow Java");
      return MlpTrainer.train(train.x(), train.y(), train.rows(), width, options);
    }
    LogisticRegressionTrainer.Options options =
        new LogisticRegressionTrainer.Options(
            epochs != null ? epochs : 20,
            128,
            learningRate != null ? learningRate : 0.2f,
            seed,
            1e-4f);
    training.put("epochs", options.epochs());
    training.put("batch_size", options.batchSize());
    training.put("learning_rate", decimal(options.learningRate()));
    training.put("l2", decimal(options.l2()));
    training.put("architecture", "logistic regression " + width + "-1");
    training.put("algorithm", "logistic regression (standardized inputs), TensorFlow Java");
    return LogisticRegressionTrainer.train(train.x(), train.y(), train.rows(), width, options);
  }

  /**
   * The float's shortest decimal as a double, so the manifest shows 0.05 rather than 0.0500000007.
   */
  private static double decimal(float value) {
    return Double.parseDouble(Float.toString(value));
  }

  /** The threshold on the scores that maximizes F1 for the labels. */
  static double bestF1Threshold(float[] scores, float[] labels) {
    double best = 0.5;
    double bestF1 = -1;
    for (int step = 1; step < 100; step++) {
      double t = step / 100.0;
      double[] pr = precisionRecall(scores, labels, t);
      double f1 = pr[0] + pr[1] == 0 ? 0 : 2 * pr[0] * pr[1] / (pr[0] + pr[1]);
      if (f1 > bestF1) {
        bestF1 = f1;
        best = t;
      }
    }
    return best;
  }

  /** Precision and recall of "score >= threshold". */
  static double[] precisionRecall(float[] scores, float[] labels, double threshold) {
    long tp = 0;
    long fp = 0;
    long fn = 0;
    for (int i = 0; i < scores.length; i++) {
      boolean alert = scores[i] >= threshold;
      boolean fraud = labels[i] > 0.5f;
      if (alert && fraud) {
        tp++;
      } else if (alert) {
        fp++;
      } else if (fraud) {
        fn++;
      }
    }
    double precision = tp + fp == 0 ? 0 : (double) tp / (tp + fp);
    double recall = tp + fn == 0 ? 0 : (double) tp / (tp + fn);
    return new double[] {precision, recall};
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
