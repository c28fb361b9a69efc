package io.decisionflow.stages.score;

import io.decisionflow.stages.enrich.FeatureSpec;

/**
 * Rule-based fraud scores over a feature spec {@value FeatureSpec#VERSION} row, used instead of the
 * model while the model misbehaves (see {@link GuardedModel}). Deterministic: the same row always
 * gets the same score, with no state and no clock.
 *
 * <p>A row holds the {@link FeatureSpec#NAMES} in spec order. Its score starts at {@link #BASE}
 * ({@value #BASE}); each rule that fires adds its weight; the sum is clamped to [0, 1]:
 *
 * <table>
 *   <caption>Rules and weights</caption>
 *   <tr><th>rule</th><th>fires when</th><th>adds</th></tr>
 *   <tr><td>amount far above the card's mean</td>
 *       <td>{@code amount_to_card_mean >= }{@value #RATIO_HIGH} (and below {@value #RATIO_EXTREME})
 *       </td><td>{@value #RATIO_HIGH_WEIGHT}</td></tr>
 *   <tr><td>amount very far above the card's mean (instead of the rule above)</td>
 *       <td>{@code amount_to_card_mean >= }{@value #RATIO_EXTREME}</td>
 *       <td>{@value #RATIO_EXTREME_WEIGHT}</td></tr>
 *   <tr><td>large amount</td>
 *       <td>amount {@code >= }{@value #LARGE_AMOUNT}, i.e. {@code amount_log >= ln(1 + }{@value
 *       #LARGE_AMOUNT}{@code )}</td><td>{@value #LARGE_AMOUNT_WEIGHT}</td></tr>
 *   <tr><td>velocity</td>
 *       <td>less than {@value #VELOCITY_SECONDS} s since the card's previous transaction, i.e.
 *       {@code seconds_since_last_log < ln(1 + }{@value #VELOCITY_SECONDS}{@code )} (a new card
 *       counts as 30 days, so it never fires on a card's first transaction)</td>
 *       <td>{@value #VELOCITY_WEIGHT}</td></tr>
 *   <tr><td>merchant risk</td>
 *       <td>{@code is_high_risk_country} (merchant country in {@link
 *       FeatureSpec#HIGH_RISK_COUNTRIES})</td><td>{@value #MERCHANT_RISK_WEIGHT}</td></tr>
 *   <tr><td>remote channel at night</td>
 *       <td>{@code is_night} and ({@code is_online} or {@code is_atm})</td>
 *       <td>{@value #REMOTE_AT_NIGHT_WEIGHT}</td></tr>
 * </table>
 *
 * <p>A flag ({@code is_*}) is set when its value is at least 0.5. A feature that is NaN fires none
 * of its rules. With the weights above no rule lowers a score, so the lower clamp only guards
 * against future negative weights; all rules together add up to 1.2 and are clamped to 1.
 *
 * <p>Examples, for a usual alert threshold of 0.5: a foreign high-risk merchant alone scores 0.35
 * (no alert); 5x the card's mean at a high-risk merchant scores 0.6 (alert); 10x the card's mean
 * alone scores 0.5 (alert).
 */
public final class FallbackRules {

  /** Score of a row that fires no rule. */
  public static final float BASE = 0.05f;

  /** Ratio of the amount to the card's mean from which {@link #RATIO_HIGH_WEIGHT} is added. */
  public static final float RATIO_HIGH = 5f;

  /** Added when {@code RATIO_HIGH <= amount_to_card_mean < RATIO_EXTREME}. */
  public static final float RATIO_HIGH_WEIGHT = 0.25f;

  /** Ratio of the amount to the card's mean from which {@link #RATIO_EXTREME_WEIGHT} is added. */
  public static final float RATIO_EXTREME = 10f;

  /** Added when {@code amount_to_card_mean >= RATIO_EXTREME} (instead of the high weight). */
  public static final float RATIO_EXTREME_WEIGHT = 0.45f;

  /** Amount (in the transaction's currency) from which {@link #LARGE_AMOUNT_WEIGHT} is added. */
  public static final double LARGE_AMOUNT = 1000.0;

  /** Added when the amount is at least {@link #LARGE_AMOUNT}. */
  public static final float LARGE_AMOUNT_WEIGHT = 0.15f;

  /** Gap to the card's previous transaction under which {@link #VELOCITY_WEIGHT} is added. */
  public static final double VELOCITY_SECONDS = 120.0;

  /** Added when the card's previous transaction was less than {@link #VELOCITY_SECONDS} ago. */
  public static final float VELOCITY_WEIGHT = 0.15f;

  /** Added when the merchant country is high risk ("merchant risk"). */
  public static final float MERCHANT_RISK_WEIGHT = 0.30f;

  /** Added for an online or ATM transaction at night. */
  public static final float REMOTE_AT_NIGHT_WEIGHT = 0.10f;

  /** {@code amount_log} from which the large amount rule fires: ln(1 + LARGE_AMOUNT). */
  static final float LARGE_AMOUNT_LOG = (float) Math.log1p(LARGE_AMOUNT);

  /** {@code seconds_since_last_log} under which the velocity rule fires: ln(1 + 120). */
  static final float VELOCITY_LOG = (float) Math.log1p(VELOCITY_SECONDS);

  /** Number of features of a row, {@link FeatureSpec#size()}. */
  public static final int WIDTH = FeatureSpec.size();

  // Positions of the features the rules read, looked up by name in FeatureSpec.NAMES.
  static final int AMOUNT_LOG = position("amount_log");
  static final int AMOUNT_TO_CARD_MEAN = position("amount_to_card_mean");
  static final int CARD_TXN_COUNT_LOG = position("card_txn_count_log");
  static final int SECONDS_SINCE_LAST_LOG = position("seconds_since_last_log");
  static final int IS_ONLINE = position("is_online");
  static final int IS_ATM = position("is_atm");
  static final int IS_NIGHT = position("is_night");
  static final int IS_HIGH_RISK_COUNTRY = position("is_high_risk_country");

  private static int position(String name) {
    int index = FeatureSpec.NAMES.indexOf(name);
    if (index < 0) {
      throw new IllegalStateException("feature spec " + FeatureSpec.VERSION + " has no " + name);
    }
    return index;
  }

  private FallbackRules() {}

  /**
   * The score of the row that starts at {@code offset} in {@code rows} (so rows of a flat batch can
   * be scored without copying).
   *
   * @throws IllegalArgumentException if {@code rows} is null or holds no full row at {@code offset}
   */
  public static float scoreRow(float[] rows, int offset) {
    if (rows == null) {
      throw new IllegalArgumentException("rows is null");
    }
    if (offset < 0 || (long) offset + WIDTH > rows.length) {
      throw new IllegalArgumentException(
          "a row of feature spec "
              + FeatureSpec.VERSION
              + " has "
              + WIDTH
              + " features, but rows has "
              + rows.length
              + " values, so there is no full row at offset "
              + offset);
    }
    float score = BASE;
    float ratio = rows[offset + AMOUNT_TO_CARD_MEAN];
    if (ratio >= RATIO_EXTREME) {
      score += RATIO_EXTREME_WEIGHT;
    } else if (ratio >= RATIO_HIGH) {
      score += RATIO_HIGH_WEIGHT;
    }
    if (rows[offset + AMOUNT_LOG] >= LARGE_AMOUNT_LOG) {
      score += LARGE_AMOUNT_WEIGHT;
    }
    if (rows[offset + SECONDS_SINCE_LAST_LOG] < VELOCITY_LOG) {
      score += VELOCITY_WEIGHT;
    }
    if (isSet(rows[offset + IS_HIGH_RISK_COUNTRY])) {
      score += MERCHANT_RISK_WEIGHT;
    }
    if (isSet(rows[offset + IS_NIGHT])
        && (isSet(rows[offset + IS_ONLINE]) || isSet(rows[offset + IS_ATM]))) {
      score += REMOTE_AT_NIGHT_WEIGHT;
    }
    return Math.max(0f, Math.min(1f, score));
  }

  /**
   * The score of a single row.
   *
   * @throws IllegalArgumentException if {@code row} is null or does not hold exactly {@link #WIDTH}
   *     features
   */
  public static float score(float[] row) {
    if (row == null) {
      throw new IllegalArgumentException("row is null");
    }
    if (row.length != WIDTH) {
      throw new IllegalArgumentException(
          "a row of feature spec "
              + FeatureSpec.VERSION
              + " must have "
              + WIDTH
              + " features, has "
              + row.length);
    }
    return scoreRow(row, 0);
  }

  /**
   * The scores of {@code count} rows laid out one after the other in {@code rows}, as a {@link
   * Model} takes them.
   *
   * @return one score per row
   * @throws IllegalArgumentException if {@code rows.length != count * WIDTH}
   */
  public static float[] score(float[] rows, int count) {
    requireRows(rows, count);
    float[] scores = new float[count];
    for (int i = 0; i < count; i++) {
      scores[i] = scoreRow(rows, i * WIDTH);
    }
    return scores;
  }

  /**
   * Checks that {@code rows} holds exactly {@code count} rows of {@link #WIDTH} features.
   *
   * @throws IllegalArgumentException naming the expected and actual number of values if not
   */
  static void requireRows(float[] rows, int count) {
    if (rows == null) {
      throw new IllegalArgumentException("rows is null");
    }
    if (count < 0 || (long) count * WIDTH != rows.length) {
      throw new IllegalArgumentException(
          "rows has "
              + rows.length
              + " values but "
              + count
              + " rows of "
              + WIDTH
              + " features (feature spec "
              + FeatureSpec.VERSION
              + ") need "
              + (long) count * WIDTH);
    }
  }

  private static boolean isSet(float flag) {
    return flag >= 0.5f;
  }
}
