package io.decisionflow.models.train;

import java.util.Arrays;
import java.util.Comparator;

/** Metrics of binary classifiers: scores are probabilities of the positive class, labels 0 or 1. */
public final class Metrics {

  /** Probabilities are clipped to {@code [EPSILON, 1 - EPSILON]} in {@link #logLoss}. */
  public static final double EPSILON = 1e-7;

  private Metrics() {}

  /**
   * Area under the ROC curve: the probability that a random positive scores higher than a random
   * negative, ties counting one half (Mann-Whitney U with mid-ranks).
   *
   * @throws IllegalArgumentException if the lengths differ, a label is not 0 or 1, a score is NaN,
   *     or there are no positives or no negatives
   */
  public static double auc(float[] scores, float[] labels) {
    check(scores, labels);
    int n = scores.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingDouble(i -> scores[i]));
    long positives = 0;
    double positiveRankSum = 0;
    int i = 0;
    while (i < n) {
      int j = i;
      while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
        j++;
      }
      // Ranks i+1 .. j+1 are tied: each gets the mean rank.
      double midRank = (i + j + 2) / 2.0;
      for (int k = i; k <= j; k++) {
        if (labels[order[k]] == 1f) {
          positives++;
          positiveRankSum += midRank;
        }
      }
      i = j + 1;
    }
    long negatives = n - positives;
    if (positives == 0 || negatives == 0) {
      throw new IllegalArgumentException(
          "AUC needs positives and negatives, got "
              + positives
              + " positives and "
              + negatives
              + " negatives");
    }
    return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double) positives * negatives);
  }

  /**
   * Mean binary cross-entropy (natural log), with probabilities clipped to {@code [EPSILON, 1 -
   * EPSILON]}.
   *
   * @throws IllegalArgumentException if the lengths differ or are zero, a label is not 0 or 1, or a
   *     score is NaN
   */
  public static double logLoss(float[] scores, float[] labels) {
    check(scores, labels);
    if (scores.length == 0) {
      throw new IllegalArgumentException("log loss of no rows");
    }
    double sum = 0;
    for (int i = 0; i < scores.length; i++) {
      double p = Math.min(Math.max(scores[i], EPSILON), 1 - EPSILON);
      sum -= labels[i] == 1f ? Math.log(p) : Math.log(1 - p);
    }
    return sum / scores.length;
  }

  private static void check(float[] scores, float[] labels) {
    if (scores == null || labels == null) {
      throw new IllegalArgumentException("scores and labels are required");
    }
    if (scores.length != labels.length) {
      throw new IllegalArgumentException(
          scores.length + " scores but " + labels.length + " labels: the lengths must match");
    }
    for (int i = 0; i < scores.length; i++) {
      if (Float.isNaN(scores[i])) {
        throw new IllegalArgumentException("scores[" + i + "] is NaN");
      }
      if (labels[i] != 0f && labels[i] != 1f) {
        throw new IllegalArgumentException("labels[" + i + "] must be 0 or 1, was " + labels[i]);
      }
    }
  }
}
