package io.decisionflow.stages.enrich;

import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.state.CardState;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;

/**
 * Feature spec {@value #VERSION}: the model's inputs, computed from a transaction and the state of
 * its card before that transaction. Training and the online enrich stage both call {@link
 * #compute}, so offline and online features are the same by construction.
 *
 * <ul>
 *   <li>{@code amount_log}: ln(1 + amount)
 *   <li>{@code amount_to_card_mean}: amount / the card's mean amount so far (1 for a new card),
 *       capped at {@value #MAX_RATIO}
 *   <li>{@code card_txn_count_log}: ln(1 + transactions seen for the card so far)
 *   <li>{@code seconds_since_last_log}: ln(1 + seconds since the card's previous transaction); a
 *       new card counts as {@value #NEW_CARD_GAP_SECONDS} s, an out-of-order event as 0
 *   <li>{@code is_online}, {@code is_atm}: the channel, one-hot (POS is neither)
 *   <li>{@code is_night}: event time between 00:00 and 05:59 UTC
 *   <li>{@code is_high_risk_country}: merchant country in {@link #HIGH_RISK_COUNTRIES}
 * </ul>
 */
public final class FeatureSpec {

  public static final String VERSION = "v1";

  public static final List<String> NAMES =
      List.of(
          "amount_log",
          "amount_to_card_mean",
          "card_txn_count_log",
          "seconds_since_last_log",
          "is_online",
          "is_atm",
          "is_night",
          "is_high_risk_country");

  /** Merchant countries treated as high risk by this spec (a fixed list, part of the version). */
  public static final Set<String> HIGH_RISK_COUNTRIES = Set.of("NG", "RU", "BR", "ID", "VN", "UA");

  static final double MAX_RATIO = 100.0;
  static final double NEW_CARD_GAP_SECONDS = 30 * 24 * 3600.0;

  private FeatureSpec() {}

  /** Number of features, the width of the model's input. */
  public static int size() {
    return NAMES.size();
  }

  /**
   * The features of {@code txn} given the state of its card before it, written into {@code out} at
   * {@code offset} (so callers can fill a flat batch without copying).
   */
  public static void compute(Transaction txn, CardState prior, float[] out, int offset) {
    double amount = txn.getAmount();
    double mean = prior.getCount() > 0 ? prior.getAmountSum() / prior.getCount() : 0.0;
    double ratio = mean > 0 ? Math.min(amount / mean, MAX_RATIO) : 1.0;
    double gapSeconds =
        prior.getCount() > 0
            ? Math.max(0L, txn.getEventTimeMs() - prior.getLastEventTimeMs()) / 1000.0
            : NEW_CARD_GAP_SECONDS;
    int hour = Instant.ofEpochMilli(txn.getEventTimeMs()).atZone(ZoneOffset.UTC).getHour();

    out[offset] = (float) Math.log1p(amount);
    out[offset + 1] = (float) ratio;
    out[offset + 2] = (float) Math.log1p(prior.getCount());
    out[offset + 3] = (float) Math.log1p(gapSeconds);
    out[offset + 4] = txn.getChannel() == Channel.ONLINE ? 1f : 0f;
    out[offset + 5] = txn.getChannel() == Channel.ATM ? 1f : 0f;
    out[offset + 6] = hour < 6 ? 1f : 0f;
    out[offset + 7] = HIGH_RISK_COUNTRIES.contains(txn.getCountry()) ? 1f : 0f;
  }

  /** The features of {@code txn} given the state of its card before it. */
  public static float[] compute(Transaction txn, CardState prior) {
    float[] out = new float[size()];
    compute(txn, prior, out, 0);
    return out;
  }

  /** The state of the card once {@code txn} is applied to {@code prior}. */
  public static CardState apply(CardState prior, Transaction txn) {
    return CardState.newBuilder()
        .setCount(prior.getCount() + 1)
        .setAmountSum(prior.getAmountSum() + txn.getAmount())
        .setLastEventTimeMs(Math.max(prior.getLastEventTimeMs(), txn.getEventTimeMs()))
        .setLastTransactionId(txn.getTransactionId())
        .setPrevious(prior.toBuilder().clearPrevious())
        .build();
  }
}
