package io.decisionflow.stages.enrich;

import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.state.CardState;
import io.decisionflow.schemas.state.MerchantVisit;
import io.decisionflow.schemas.state.TimeBucket;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * Feature spec {@value #VERSION}: the model's inputs, computed from a transaction, the state of its
 * card before that transaction, and the merchant reference table. Training and the online enrich
 * stage both call {@link #compute} and {@link #apply}, so offline and online features are the same
 * by construction. The first eighteen are the features of spec v2, unchanged and in the same order;
 * v3 adds the two merchant features after them.
 *
 * <p>The first eight are the features of spec v1, unchanged; they count every transaction of the
 * card in arrival order:
 *
 * <ul>
 *   <li>{@code amount_log}: ln(1 + amount)
 *   <li>{@code amount_to_card_mean}: amount / the card's mean amount so far (1 for a new card),
 *       capped at {@value #MAX_RATIO}
 *   <li>{@code card_txn_count_log}: ln(1 + transactions seen for the card so far)
 *   <li>{@code seconds_since_last_log}: ln(1 + seconds since the card's newest transaction by event
 *       time); a new card counts as {@value #NEW_CARD_GAP_SECONDS} s, an out-of-order event as 0
 *   <li>{@code is_online}, {@code is_atm}: the channel, one-hot (POS is neither)
 *   <li>{@code is_night}: event time between 00:00 and 05:59 UTC
 *   <li>{@code is_high_risk_country}: merchant country in {@link #HIGH_RISK_COUNTRIES}
 * </ul>
 *
 * <p>Then the event-time features. They describe the card <em>before</em> the transaction, at its
 * evaluation time {@code t}: the transaction's event time, or the card's newest event time for a
 * {@linkplain #isLate late} transaction.
 *
 * <ul>
 *   <li>{@code txn_count_5m}, {@code txn_count_1h}, {@code txn_count_24h}: transactions of the card
 *       in the window of 5 min, 1 h, 24 h before {@code t}
 *   <li>{@code amount_sum_5m_log}, {@code amount_sum_1h_log}, {@code amount_sum_24h_log}: ln(1 +
 *       the sum of their amounts)
 *   <li>{@code max_amount_24h_log}: ln(1 + the largest amount in the 24 h window), 0 if empty
 *   <li>{@code distinct_merchants_1h}: distinct merchant ids among the card's transactions with
 *       event time in [t - 1 h, t], counted over the newest {@value #MAX_RECENT_MERCHANTS} only
 *   <li>{@code amount_zscore}: (amount - the card's running mean) / its running sample standard
 *       deviation (Welford), with the deviation at least {@value #MIN_STD_SHARE} x the mean, so a
 *       card of near-equal amounts does not blow it up; 0 before two transactions or while the
 *       deviation is 0; capped at &plusmn;{@value #MAX_ZSCORE} (further out says nothing more)
 *   <li>{@code country_changed}: 1 if the merchant country differs from the country of the card's
 *       newest transaction by event time, 0 for a new card
 * </ul>
 *
 * <p><b>Windows at bucket granularity.</b> The card keeps transactions in buckets of {@value
 * #BUCKET_MS} ms of event time ({@code index = floor(eventTime / BUCKET_MS)}). The window of length
 * W at {@code t} is [t - W, t) rounded outward to whole buckets: the bucket of {@code t} and the W
 * / 5 min buckets before it. So it never misses a transaction of [t - W, t), and it holds at most 5
 * min more: a transaction at {@code e} leaves the window of length W when {@code t} reaches the
 * start of bucket {@code index(e) + W / 5 min + 1}, i.e. between W and W + 5 min after {@code e}.
 * Transactions of the bucket of {@code t} with a later event time (applied before a late
 * transaction) are in its window too: the buckets cannot tell them apart.
 *
 * <p><b>Event time.</b> A transaction at most {@code allowedLatenessMs} older than the card's
 * newest event time has its windows computed at its own event time and is added to its bucket. A
 * transaction further behind is <em>late</em>: it is scored on the card's current state (windows at
 * the newest event time), flagged, and added to no window, no merchant list and not to the country;
 * it still counts in the v1 features and the running mean. A repeated transaction id among the
 * card's newest {@value #MAX_RECENT_IDS} is never applied twice (see {@link #isRepeat}).
 *
 * <p>Last, the merchant features (new in v3), from the merchant reference table ({@link
 * MerchantRisks}, the business unit's compacted {@code merchants} topic):
 *
 * <ul>
 *   <li>{@code merchant_risk}: the risk of the transaction's merchant in the table, in [0, 1]; 0
 *       for a merchant that is not in the table
 *   <li>{@code merchant_unknown}: 1 if the merchant is not in the table, else 0
 * </ul>
 *
 * <p><b>Merchant risk is a join at processing time.</b> Unlike the card features, it does not
 * depend on the transaction's event time: it is the table as the instance sees it when it processes
 * the record. An update of the table applies to the records processed after the instance has read
 * it, whatever their event time; a late or replayed transaction gets today's risk of its merchant,
 * not the risk at the time it was made. A redelivered record (the same transaction id as the card's
 * newest) gets the very features it had the first time, merchant features included (they are kept
 * in the card state's {@code last_features}), so a table update between the first delivery and the
 * redelivery does not change its record. Offline, the same holds for a fixed table: folding a
 * transaction log with {@link #compute} and {@link #apply} over one table gives the stage's records
 * when the stage saw that table.
 */
public final class FeatureSpec {

  public static final String VERSION = "v3";

  public static final List<String> NAMES =
      List.of(
          "amount_log",
          "amount_to_card_mean",
          "card_txn_count_log",
          "seconds_since_last_log",
          "is_online",
          "is_atm",
          "is_night",
          "is_high_risk_country",
          "txn_count_5m",
          "txn_count_1h",
          "txn_count_24h",
          "amount_sum_5m_log",
          "amount_sum_1h_log",
          "amount_sum_24h_log",
          "max_amount_24h_log",
          "distinct_merchants_1h",
          "amount_zscore",
          "country_changed",
          "merchant_risk",
          "merchant_unknown");

  /**
   * Position of {@code merchant_risk}, the first merchant feature. The features before it are those
   * of spec v2, in the same order: a state written by v2 holds them as {@code last_features}.
   */
  public static final int MERCHANT_FEATURES_OFFSET = NAMES.indexOf("merchant_risk");

  /** Merchant countries treated as high risk by this spec (a fixed list, part of the version). */
  public static final Set<String> HIGH_RISK_COUNTRIES = Set.of("NG", "RU", "BR", "ID", "VN", "UA");

  /** Allowed lateness when none is configured ({@link EnrichConfig#allowedLatenessSeconds}). */
  public static final long DEFAULT_ALLOWED_LATENESS_MS = 300_000L;

  /** Width of a time bucket of the card's state. */
  public static final long BUCKET_MS = 300_000L;

  /** Window lengths of the windowed features: 5 min, 1 h, 24 h. */
  static final long[] WINDOWS_MS = {300_000L, 3_600_000L, 86_400_000L};

  private static final long DAY_MS = 86_400_000L;
  private static final long HOUR_MS = 3_600_000L;

  /** Transactions kept for {@code distinct_merchants_1h}. */
  public static final int MAX_RECENT_MERCHANTS = 64;

  /** Transaction ids kept per card to recognise a repeated one. */
  public static final int MAX_RECENT_IDS = 16;

  static final double MAX_RATIO = 100.0;
  static final double MAX_ZSCORE = 10.0;
  static final double MIN_STD_SHARE = 0.1;
  static final double NEW_CARD_GAP_SECONDS = 30 * 24 * 3600.0;

  private FeatureSpec() {}

  /** Number of features, the width of the model's input. */
  public static int size() {
    return NAMES.size();
  }

  /**
   * Whether {@code txn} is more than {@code allowedLatenessMs} older than the newest event time of
   * its card: then it is scored on the card's current state and added to no window.
   */
  public static boolean isLate(Transaction txn, CardState prior, long allowedLatenessMs) {
    return prior.getCount() > 0
        && txn.getEventTimeMs() < prior.getLastEventTimeMs() - allowedLatenessMs;
  }

  /**
   * Whether {@code txn}'s id is the card's newest one or one of its {@value #MAX_RECENT_IDS}
   * newest: such a transaction must not be applied again. An id repeated after more newer ones than
   * that is not recognised.
   */
  public static boolean isRepeat(CardState prior, Transaction txn) {
    String id = txn.getTransactionId();
    return id.equals(prior.getLastTransactionId())
        || prior.getRecentTransactionIdsList().contains(id);
  }

  /**
   * {@link #compute(Transaction, CardState, MerchantRisks, long, float[], int)} with the default
   * lateness.
   */
  public static void compute(
      Transaction txn, CardState prior, MerchantRisks merchants, float[] out, int offset) {
    compute(txn, prior, merchants, DEFAULT_ALLOWED_LATENESS_MS, out, offset);
  }

  /**
   * The features of {@code txn} given the state of its card before it and the merchant table,
   * written into {@code out} at {@code offset} (so callers can fill a flat batch without copying).
   */
  public static void compute(
      Transaction txn,
      CardState prior,
      MerchantRisks merchants,
      long allowedLatenessMs,
      float[] out,
      int offset) {
    double amount = txn.getAmount();
    long count = prior.getCount();
    double mean = count > 0 ? prior.getAmountSum() / count : 0.0;
    double ratio = mean > 0 ? Math.min(amount / mean, MAX_RATIO) : 1.0;
    double gapSeconds =
        count > 0
            ? Math.max(0L, txn.getEventTimeMs() - prior.getLastEventTimeMs()) / 1000.0
            : NEW_CARD_GAP_SECONDS;
    int hour = Instant.ofEpochMilli(txn.getEventTimeMs()).atZone(ZoneOffset.UTC).getHour();

    out[offset] = (float) Math.log1p(amount);
    out[offset + 1] = (float) ratio;
    out[offset + 2] = (float) Math.log1p(count);
    out[offset + 3] = (float) Math.log1p(gapSeconds);
    out[offset + 4] = txn.getChannel() == Channel.ONLINE ? 1f : 0f;
    out[offset + 5] = txn.getChannel() == Channel.ATM ? 1f : 0f;
    out[offset + 6] = hour < 6 ? 1f : 0f;
    out[offset + 7] = HIGH_RISK_COUNTRIES.contains(txn.getCountry()) ? 1f : 0f;

    long at =
        isLate(txn, prior, allowedLatenessMs) ? prior.getLastEventTimeMs() : txn.getEventTimeMs();
    long bucket = Math.floorDiv(at, BUCKET_MS);
    long[] counts = new long[WINDOWS_MS.length];
    double[] sums = new double[WINDOWS_MS.length];
    double max24h = 0;
    for (TimeBucket b : prior.getBucketsList()) {
      if (b.getIndex() > bucket) {
        continue;
      }
      for (int w = 0; w < WINDOWS_MS.length; w++) {
        if (b.getIndex() >= bucket - WINDOWS_MS[w] / BUCKET_MS) {
          counts[w] += b.getCount();
          sums[w] += b.getAmountSum();
          if (w == WINDOWS_MS.length - 1) {
            max24h = Math.max(max24h, b.getAmountMax());
          }
        }
      }
    }
    Set<String> distinctMerchants = new HashSet<>();
    for (MerchantVisit visit : prior.getRecentMerchantsList()) {
      if (visit.getEventTimeMs() >= at - HOUR_MS && visit.getEventTimeMs() <= at) {
        distinctMerchants.add(visit.getMerchantId());
      }
    }
    double runningMean = runningMean(prior);
    double std =
        count >= 2
            ? Math.max(
                Math.sqrt(prior.getAmountM2() / (count - 1)), MIN_STD_SHARE * Math.abs(runningMean))
            : 0.0;
    double zscore =
        std > 0 ? Math.max(-MAX_ZSCORE, Math.min(MAX_ZSCORE, (amount - runningMean) / std)) : 0.0;
    boolean countryChanged =
        count > 0
            && !prior.getLastCountry().isEmpty()
            && !prior.getLastCountry().equals(txn.getCountry());

    out[offset + 8] = counts[0];
    out[offset + 9] = counts[1];
    out[offset + 10] = counts[2];
    out[offset + 11] = (float) Math.log1p(sums[0]);
    out[offset + 12] = (float) Math.log1p(sums[1]);
    out[offset + 13] = (float) Math.log1p(sums[2]);
    out[offset + 14] = (float) Math.log1p(max24h);
    out[offset + 15] = distinctMerchants.size();
    out[offset + 16] = (float) zscore;
    out[offset + 17] = countryChanged ? 1f : 0f;
    merchantFeatures(txn, merchants, out, offset + MERCHANT_FEATURES_OFFSET);
  }

  /**
   * Writes {@code merchant_risk} and {@code merchant_unknown} of {@code txn}, as {@code merchants}
   * has them now, into {@code out} at {@code offset}.
   */
  static void merchantFeatures(Transaction txn, MerchantRisks merchants, float[] out, int offset) {
    OptionalDouble risk = merchants.risk(txn.getMerchantId());
    out[offset] = risk.isPresent() ? (float) risk.getAsDouble() : 0f;
    out[offset + 1] = risk.isPresent() ? 0f : 1f;
  }

  /**
   * The features of {@code txn} given the state of its card before it and the merchant table
   * (default lateness).
   */
  public static float[] compute(Transaction txn, CardState prior, MerchantRisks merchants) {
    return compute(txn, prior, merchants, DEFAULT_ALLOWED_LATENESS_MS);
  }

  /** The features of {@code txn} given the state of its card before it and the merchant table. */
  public static float[] compute(
      Transaction txn, CardState prior, MerchantRisks merchants, long allowedLatenessMs) {
    float[] out = new float[size()];
    compute(txn, prior, merchants, allowedLatenessMs, out, 0);
    return out;
  }

  /** {@link #apply(CardState, Transaction, MerchantRisks, long)} with the default lateness. */
  public static CardState apply(CardState prior, Transaction txn, MerchantRisks merchants) {
    return apply(prior, txn, merchants, DEFAULT_ALLOWED_LATENESS_MS);
  }

  /**
   * The state of the card once {@code txn} is applied to {@code prior}. It records the features
   * {@code txn} gets from {@code prior} and {@code merchants} as {@code last_features}; the
   * merchant table plays no other part in the state. The caller skips a {@linkplain #isRepeat
   * repeated} transaction.
   */
  public static CardState apply(
      CardState prior, Transaction txn, MerchantRisks merchants, long allowedLatenessMs) {
    boolean late = isLate(txn, prior, allowedLatenessMs);
    long time = txn.getEventTimeMs();
    double amount = txn.getAmount();
    long count = prior.getCount() + 1;
    long newest = Math.max(prior.getLastEventTimeMs(), time);
    double meanBefore = runningMean(prior);
    double delta = amount - meanBefore;
    double meanAfter = meanBefore + delta / count;

    CardState.Builder next =
        CardState.newBuilder()
            .setCount(count)
            .setAmountSum(prior.getAmountSum() + amount)
            .setLastEventTimeMs(newest)
            .setLastTransactionId(txn.getTransactionId())
            .setAmountMean(meanAfter)
            .setAmountM2(prior.getAmountM2() + delta * (amount - meanAfter))
            .setLastCountry(
                prior.getCount() == 0 || time >= prior.getLastEventTimeMs()
                    ? txn.getCountry()
                    : prior.getLastCountry());
    for (float f : compute(txn, prior, merchants, allowedLatenessMs)) {
      next.addLastFeatures(f);
    }

    List<String> ids = prior.getRecentTransactionIdsList();
    int skipIds = Math.max(0, ids.size() + 1 - MAX_RECENT_IDS);
    next.addAllRecentTransactionIds(ids.subList(skipIds, ids.size()));
    next.addRecentTransactionIds(txn.getTransactionId());

    long oldestBucket =
        Math.floorDiv(newest, BUCKET_MS)
            - DAY_MS / BUCKET_MS
            - (allowedLatenessMs + BUCKET_MS - 1) / BUCKET_MS;
    long bucket = Math.floorDiv(time, BUCKET_MS);
    boolean added = late;
    for (TimeBucket b : prior.getBucketsList()) {
      if (!added && b.getIndex() >= bucket) {
        if (b.getIndex() == bucket) {
          b = add(b, amount);
        } else {
          next.addBuckets(add(TimeBucket.newBuilder().setIndex(bucket).build(), amount));
        }
        added = true;
      }
      if (b.getIndex() >= oldestBucket) {
        next.addBuckets(b);
      }
    }
    if (!added) {
      next.addBuckets(add(TimeBucket.newBuilder().setIndex(bucket).build(), amount));
    }

    List<MerchantVisit> visits = new ArrayList<>(prior.getRecentMerchantsList());
    if (!late) {
      int at = visits.size();
      while (at > 0 && visits.get(at - 1).getEventTimeMs() > time) {
        at--;
      }
      visits.add(
          at,
          MerchantVisit.newBuilder()
              .setEventTimeMs(time)
              .setMerchantId(txn.getMerchantId())
              .build());
    }
    long oldestVisit = newest - HOUR_MS - allowedLatenessMs;
    int from = Math.max(0, visits.size() - MAX_RECENT_MERCHANTS);
    for (MerchantVisit visit : visits.subList(from, visits.size())) {
      if (visit.getEventTimeMs() >= oldestVisit) {
        next.addRecentMerchants(visit);
      }
    }
    return next.build();
  }

  private static TimeBucket add(TimeBucket bucket, double amount) {
    return bucket.toBuilder()
        .setCount(bucket.getCount() + 1)
        .setAmountSum(bucket.getAmountSum() + amount)
        .setAmountMax(Math.max(bucket.getAmountMax(), amount))
        .build();
  }

  /**
   * The card's running mean amount. A state written by spec v1 has no running mean: its mean is
   * then the amount sum over the count (and its deviation starts from 0).
   */
  private static double runningMean(CardState state) {
    if (state.getCount() > 0 && state.getAmountMean() == 0 && state.getAmountM2() == 0) {
      return state.getAmountSum() / state.getCount();
    }
    return state.getAmountMean();
  }
}
