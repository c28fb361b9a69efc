package io.decisionflow.connectors.archive;

import io.decisionflow.schemas.Decision;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.UUID;

/** Decisions for the tests: shaped like those the decide function emits. */
final class Decisions {

  /** 2026-01-01 07:15 UTC: a time well inside an hour. */
  static final long T0 = Instant.parse("2026-01-01T07:15:00Z").toEpochMilli();

  static final String TOPIC = "persistent://payments/fraud/decisions-partition-0";
  static final String OTHER_PARTITION = "persistent://payments/fraud/decisions-partition-1";

  private static final String[] FEATURES = {
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
    "merchant_unknown"
  };
  private static final String[] COUNTRIES = {"DE", "FR", "NL", "US", "GB", "ES", "IT", "NG"};
  private static final String[] CHANNELS = {"ONLINE", "POS", "ATM"};

  private Decisions() {}

  /** Decision {@code i}, decided at {@code decidedAtMs}. */
  static Decision decision(int i, long decidedAtMs) {
    return realistic(new Random(i), i, decidedAtMs);
  }

  /** {@code n} varied decisions, one every 5 ms from {@link #T0}. */
  static List<Decision> realistic(int n, long seed) {
    Random random = new Random(seed);
    List<Decision> decisions = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      decisions.add(realistic(random, i, T0 + 5L * i));
    }
    return decisions;
  }

  private static Decision realistic(Random random, int i, long decidedAtMs) {
    StringBuilder features = new StringBuilder("{");
    for (int f = 0; f < FEATURES.length; f++) {
      String name = FEATURES[f];
      float value;
      if (name.startsWith("is_") || name.endsWith("changed") || name.endsWith("unknown")) {
        value = random.nextInt(2);
      } else if (name.startsWith("txn_count") || name.startsWith("distinct")) {
        value = random.nextInt(name.endsWith("24h") ? 40 : 6);
      } else {
        value = (float) (random.nextDouble() * 8);
      }
      features.append(f == 0 ? "" : ",").append('"').append(name).append("\":");
      features.append(value);
    }
    features.append('}');
    double score = random.nextDouble();
    boolean challenger = random.nextInt(10) < 3;
    long eventTime = decidedAtMs - 40 - random.nextInt(200);
    return Decision.newBuilder()
        .setTransactionId(new UUID(random.nextLong(), random.nextLong()).toString())
        .setCardId(String.format(Locale.ROOT, "card-%06d", random.nextInt(50_000)))
        .setMerchantId(String.format(Locale.ROOT, "m-%04d", random.nextInt(2_000)))
        .setAmount(Math.round(random.nextDouble() * 50_000) / 100.0)
        .setCurrency(random.nextInt(4) == 0 ? "USD" : "EUR")
        .setEventTimeMs(eventTime)
        .setChannel(CHANNELS[random.nextInt(CHANNELS.length)])
        .setCountry(COUNTRIES[random.nextInt(COUNTRIES.length)])
        .setFeatureSpecVersion("v3")
        .setFeaturesJson(features.toString())
        .setArm(challenger ? "challenger" : "champion")
        .setModelSlot(challenger ? "challenger" : "champion")
        .setModelVersion(challenger ? "2026-01-01-b" : "2025-12-20-a")
        .setScore(score)
        .setFallback(random.nextInt(100) == 0)
        .setThreshold(0.2)
        .setOutcome(score >= 0.2 ? "ALERT" : "OK")
        .setEnrichedAtMs(eventTime + 10 + random.nextInt(20))
        .setRoutedAtMs(eventTime + 30 + random.nextInt(5))
        .setScoredAtMs(decidedAtMs - 1 - random.nextInt(5))
        .setDecidedAtMs(decidedAtMs)
        .setRoutingVersion("3")
        .setLate(random.nextInt(500) == 0)
        .setBand(score >= 0.4 ? "DECLINE" : score >= 0.1 ? "REVIEW" : "APPROVE")
        .build();
  }
}
