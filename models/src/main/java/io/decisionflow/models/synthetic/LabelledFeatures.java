package io.decisionflow.models.synthetic;

import io.decisionflow.models.train.Metrics;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.state.CardState;
import io.decisionflow.stages.enrich.FeatureSpec;
import io.decisionflow.stages.enrich.MerchantRisks;
import java.util.HashMap;
import java.util.Map;

/**
 * A labelled data set of features: the generator's transactions, enriched offline by the very
 * {@link FeatureSpec} code the online enrich stage runs, in stream order, with the generator's
 * merchant table ({@link TransactionGenerator#merchantRisks()}), and each row's true fraud
 * probability.
 *
 * @param x rows of {@link FeatureSpec#size()} features, one after the other
 * @param y labels, 1 for fraud
 * @param p true fraud probabilities the labels were drawn from ({@link
 *     TransactionGenerator.Labelled#fraudProbability()})
 * @param rows number of rows
 */
public record LabelledFeatures(float[] x, float[] y, float[] p, int rows) {

  public static final int WIDTH = FeatureSpec.size();

  /**
   * Draws {@code rows} transactions from {@code generator} and computes their features with its
   * merchant table.
   */
  public static LabelledFeatures generate(TransactionGenerator generator, int rows) {
    float[] x = new float[rows * WIDTH];
    float[] y = new float[rows];
    float[] p = new float[rows];
    Map<String, CardState> cards = new HashMap<>();
    MerchantRisks merchants = generator.merchantRisks();
    for (int i = 0; i < rows; i++) {
      TransactionGenerator.Labelled labelled = generator.next();
      Transaction txn = labelled.transaction();
      CardState prior = cards.getOrDefault(txn.getCardId(), CardState.getDefaultInstance());
      FeatureSpec.compute(txn, prior, merchants, x, i * WIDTH);
      cards.put(txn.getCardId(), FeatureSpec.apply(prior, txn, merchants));
      y[i] = labelled.fraud() ? 1f : 0f;
      p[i] = (float) labelled.fraudProbability();
    }
    return new LabelledFeatures(x, y, p, rows);
  }

  /** Rows {@code [from, to)}. */
  public LabelledFeatures slice(int from, int to) {
    float[] xs = new float[(to - from) * WIDTH];
    System.arraycopy(x, from * WIDTH, xs, 0, xs.length);
    float[] ys = new float[to - from];
    System.arraycopy(y, from, ys, 0, ys.length);
    float[] ps = new float[to - from];
    System.arraycopy(p, from, ps, 0, ps.length);
    return new LabelledFeatures(xs, ys, ps, to - from);
  }

  /** Share of fraud rows. */
  public double positiveRate() {
    return mean(y);
  }

  /** Mean true fraud probability: the expected share of fraud rows. */
  public double meanProbability() {
    return mean(p);
  }

  /**
   * The best AUC any model of the features can reach on these rows: the AUC of the true
   * probabilities against the drawn labels.
   */
  public double bayesAuc() {
    return Metrics.auc(p, y);
  }

  /** The log-loss of the true probabilities against the drawn labels. */
  public double bayesLogLoss() {
    return Metrics.logLoss(p, y);
  }

  private double mean(float[] values) {
    double sum = 0;
    for (float v : values) {
      sum += v;
    }
    return rows == 0 ? 0 : sum / rows;
  }
}
