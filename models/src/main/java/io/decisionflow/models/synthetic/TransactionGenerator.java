package io.decisionflow.models.synthetic;

import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.reference.MerchantRisk;
import io.decisionflow.schemas.state.CardState;
import io.decisionflow.stages.enrich.FeatureSpec;
import io.decisionflow.stages.enrich.InMemoryMerchantRisks;
import io.decisionflow.stages.enrich.MerchantRisks;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Synthetic card transactions with a known true fraud probability per transaction, and labels drawn
 * from it. Deterministic for a seed.
 *
 * <p><b>Cards.</b> {@code cards} cards {@code card-000000 ...}, each with a typical amount
 * (log-normal, median 40, sigma 0.6), a home country (one of {@link #HOME_COUNTRIES}) and an online
 * share (uniform 10-50%).
 *
 * <p><b>Merchants.</b> {@value #MERCHANT_COUNT} merchants {@code merchant-0 ...}, each with a
 * category (one of six ISO 18245 codes) and a risk drawn once from {@link #MERCHANT_SEED}, the same
 * for every stream: 85% low (uniform 0.0-0.2), 6% medium (0.2-0.6), 4% high (0.6-0.95), rounded to
 * three decimals; the other 5% are left out of the merchant table on purpose, so the stream has
 * unknown merchants. {@link #merchantTable()} is that table, as the rows a business unit's {@code
 * merchants} topic holds; training, the demo and the tests use it, so their features match.
 *
 * <p><b>Normal behaviour.</b> amount = typical x log-normal(0, 0.4); channel ONLINE with the card's
 * online share, ATM 5%, else POS; 3% are big purchases (typical x uniform(3, 15), POS 80%, else
 * ONLINE). Country: home 92%, another home country 5%, a high-risk country 3% (travellers). The
 * merchant is any of them, uniformly. A third of these transactions is followed by another one on
 * the same card 10-600 s later.
 *
 * <p><b>Risky-looking episodes.</b> A transaction starts an episode with probability {@link
 * Options#fraudRate()} (tripled between 00:00 and 05:59 UTC). 40% of episodes start with card
 * tests: ONLINE payments of 0.5-3.0, half of them in a high-risk country, each followed 5-60 s
 * later by another test or a cash-out (50/50). A cash-out has amount = typical x uniform(3, 20);
 * channel ONLINE 70%, ATM 20%, POS 10%; country high-risk ({@link #RISKY_COUNTRIES}) 60%, else any;
 * it is followed with probability 0.6 by another cash-out on the same card 5-120 s later. Half of
 * the transactions of an episode are at a high-risk or unknown merchant, the others at any
 * merchant. Episodes only shape the data: they are not the label.
 *
 * <p><b>Labels.</b> The generator keeps each card's state exactly as the enrich stage does, in
 * stream order, and computes each transaction's features with {@link FeatureSpec} {@value
 * FeatureSpec#VERSION} and the merchant table. The true fraud probability depends on the eight
 * features of spec v1, which every later spec keeps, and the two merchant features of v3, looked up
 * by name in {@link FeatureSpec#NAMES}; it is {@code p = sigmoid(z)} with
 *
 * <pre>
 * z = -5.5
 *     - 1.0 * cnp                                  card not present: online or ATM
 *     + 3.0 * hump * cnp                           cash-out amounts
 *     + 3.0 * tiny * is_online * spree             card testing
 *     + 2.0 * spree * cnp - 2.0 * spree * pos      sprees: risky unless in shops
 *     + 1.5 * is_high_risk_country * is_online
 *     - 1.5 * is_high_risk_country * pos           travellers pay in shops
 *     + 1.5 * is_atm * is_night
 *     + 2.5 * merchant_risk                        the merchant table's risk (0 if unknown)
 *     + 1.0 * merchant_unknown                     a merchant not in the table
 * cnp   = is_online + is_atm,  pos = 1 - cnp
 * hump  = exp(-ln(amount_to_card_mean / 5)^2 / 0.5)        peaks at 5x the card's mean amount
 * tiny  = clamp((0.2 - amount_to_card_mean) / 0.1, 0, 1)  1 below 0.1x the mean, 0 above 0.2x
 * spree = 1 if seconds_since_last_log &lt; 4.8 (previous transaction on the card &lt; ~120 s ago)
 * </pre>
 *
 * <p>and the label is drawn as Bernoulli(p) from the generator's random stream. {@code p} is a
 * function of the features alone (the event-time features of v2 play no part), so it is the
 * Bayes-optimal score for any model that sees them: the AUC of {@code p} against the labels is the
 * best AUC a model can expect on a data set. It is deliberately non-linear (a hump, a threshold,
 * interactions whose sign depends on the channel), so a logistic regression on the raw features
 * stays clearly below it. With the default options about 1.8% of transactions are fraud.
 */
public final class TransactionGenerator {

  /**
   * A transaction, its label, and the true probability the label was drawn from.
   *
   * @param transaction the transaction
   * @param fraud the label, drawn as Bernoulli({@code fraudProbability})
   * @param fraudProbability the true fraud probability, {@link #fraudProbability(float[], int)} of
   *     the transaction's features
   */
  public record Labelled(Transaction transaction, boolean fraud, double fraudProbability) {}

  /**
   * Settings.
   *
   * @param seed seed of the stream (cards' profiles do not depend on it)
   * @param cards number of cards
   * @param fraudRate probability that a transaction starts a risky-looking episode, in [0, 0.3]
   * @param startMs event time of the stream's start
   * @param meanGapMs mean gap between transactions of {@link #next()}
   */
  public record Options(long seed, int cards, double fraudRate, long startMs, long meanGapMs) {
    public static Options defaults(long seed) {
      return new Options(seed, 2_000, 0.02, 1_767_225_600_000L, 1_000L);
    }

    /** These options over {@code cards} distinct cards. */
    public Options withCards(int cards) {
      return new Options(seed, cards, fraudRate, startMs, meanGapMs);
    }
  }

  /** Seed of the card profiles, the same for every stream. */
  public static final long PROFILE_SEED = 20_260_101L;

  /** Seed of the merchants' categories and risks, the same for every stream. */
  public static final long MERCHANT_SEED = 20_260_102L;

  /** Merchants of the stream, {@code merchant-0 .. merchant-499}. */
  public static final int MERCHANT_COUNT = 500;

  /** Weight of {@code merchant_risk} in the fraud probability's {@code z}. */
  static final double MERCHANT_RISK_WEIGHT = 2.5;

  /** Weight of {@code merchant_unknown} in the fraud probability's {@code z}. */
  static final double MERCHANT_UNKNOWN_WEIGHT = 1.0;

  /** What the merchant table's rows give as their source. */
  public static final String MERCHANT_TABLE_SOURCE = "synthetic TransactionGenerator";

  public static final List<String> HOME_COUNTRIES =
      List.of("DE", "FR", "NL", "ES", "IT", "US", "GB", "PL");
  public static final List<String> RISKY_COUNTRIES = List.of("NG", "RU", "BR", "ID", "VN", "UA");
  private static final List<String> CURRENCIES = List.of("EUR", "USD", "GBP");
  private static final List<String> MCC = List.of("5411", "5812", "5999", "4111", "5732", "7011");

  // Indices of the v1 features p depends on, by name in FeatureSpec.NAMES.
  private static final int AMOUNT_LOG = FeatureSpec.NAMES.indexOf("amount_log");
  private static final int AMOUNT_TO_CARD_MEAN = FeatureSpec.NAMES.indexOf("amount_to_card_mean");
  private static final int SECONDS_SINCE_LAST_LOG =
      FeatureSpec.NAMES.indexOf("seconds_since_last_log");
  private static final int IS_ONLINE = FeatureSpec.NAMES.indexOf("is_online");
  private static final int IS_ATM = FeatureSpec.NAMES.indexOf("is_atm");
  private static final int IS_NIGHT = FeatureSpec.NAMES.indexOf("is_night");
  private static final int IS_HIGH_RISK_COUNTRY = FeatureSpec.NAMES.indexOf("is_high_risk_country");
  private static final int MERCHANT_RISK = FeatureSpec.NAMES.indexOf("merchant_risk");
  private static final int MERCHANT_UNKNOWN = FeatureSpec.NAMES.indexOf("merchant_unknown");

  /**
   * A merchant of the stream.
   *
   * @param risk its risk in the merchant table, NaN if it is not in the table
   */
  private record Merchant(String id, String category, double risk) {
    boolean known() {
      return !Double.isNaN(risk);
    }
  }

  private static final Merchant[] MERCHANTS = merchants();

  /** The merchants fraud episodes prefer: high risk (at least 0.6) or not in the table. */
  private static final Merchant[] RISKY_MERCHANTS =
      Arrays.stream(MERCHANTS).filter(m -> !m.known() || m.risk() >= 0.6).toArray(Merchant[]::new);

  private static final InMemoryMerchantRisks MERCHANT_RISKS = tableOf(MERCHANTS);

  private record Card(String id, double typicalAmount, String home, double onlineShare) {}

  private enum Kind {
    NORMAL,
    RISKY,
    TEST
  }

  private record FollowUp(Card card, long dueMs, Kind kind) {}

  private final Options options;
  private final Card[] cards;
  private final SplittableRandom random;
  private final PriorityQueue<FollowUp> followUps =
      new PriorityQueue<>(Comparator.comparingLong(FollowUp::dueMs));
  private final Map<String, CardState> states = new HashMap<>();
  private final float[] features = new float[FeatureSpec.size()];
  private long clockMs;
  private long sequence;

  public TransactionGenerator(Options options) {
    if (options.cards() < 1) {
      throw new IllegalArgumentException("cards must be >= 1, was " + options.cards());
    }
    if (!(options.fraudRate() >= 0 && options.fraudRate() <= 0.3)) {
      throw new IllegalArgumentException(
          "fraudRate must be in [0, 0.3], was " + options.fraudRate());
    }
    this.options = options;
    this.random = new SplittableRandom(options.seed());
    Random profiles = new Random(PROFILE_SEED);
    this.cards = new Card[options.cards()];
    for (int i = 0; i < cards.length; i++) {
      cards[i] =
          new Card(
              String.format("card-%06d", i),
              Math.exp(Math.log(40) + 0.6 * profiles.nextGaussian()),
              HOME_COUNTRIES.get(profiles.nextInt(HOME_COUNTRIES.size())),
              0.1 + 0.4 * profiles.nextDouble());
    }
    this.clockMs = options.startMs();
  }

  private static Merchant[] merchants() {
    Random random = new Random(MERCHANT_SEED);
    Merchant[] out = new Merchant[MERCHANT_COUNT];
    for (int i = 0; i < out.length; i++) {
      String category = MCC.get(random.nextInt(MCC.size()));
      double band = random.nextDouble();
      double u = random.nextDouble();
      double risk;
      if (band < 0.05) {
        risk = Double.NaN;
      } else if (band < 0.09) {
        risk = 0.6 + 0.35 * u;
      } else if (band < 0.15) {
        risk = 0.2 + 0.4 * u;
      } else {
        risk = 0.2 * u;
      }
      // Math.round(NaN) is 0: an unknown merchant keeps NaN.
      out[i] =
          new Merchant(
              "merchant-" + i,
              category,
              Double.isNaN(risk) ? risk : Math.round(risk * 1000) / 1000.0);
    }
    return out;
  }

  private static InMemoryMerchantRisks tableOf(Merchant[] merchants) {
    InMemoryMerchantRisks table = new InMemoryMerchantRisks();
    for (Merchant merchant : merchants) {
      if (merchant.known()) {
        table.put(merchant.id(), merchant.risk());
      }
    }
    return table;
  }

  /**
   * The merchant table of the stream: a row for each merchant in it, ordered by merchant number
   * (the same for every seed). A business unit that holds this table on its {@code merchants} topic
   * (and none of {@link #unknownMerchants()}) computes the features the labels were drawn from.
   */
  public List<MerchantRisk> merchantTable() {
    List<MerchantRisk> rows = new ArrayList<>();
    for (Merchant merchant : MERCHANTS) {
      if (merchant.known()) {
        rows.add(
            MerchantRisk.newBuilder()
                .setMerchantId(merchant.id())
                .setRisk(merchant.risk())
                .setCategory(merchant.category())
                .setSource(MERCHANT_TABLE_SOURCE)
                .build());
      }
    }
    return rows;
  }

  /** The merchants of the stream that are not in {@link #merchantTable()}, on purpose. */
  public List<String> unknownMerchants() {
    return Arrays.stream(MERCHANTS).filter(m -> !m.known()).map(Merchant::id).toList();
  }

  /** {@link #merchantTable()} as a lookup, the table the generator computes features with. */
  public MerchantRisks merchantRisks() {
    return MERCHANT_RISKS;
  }

  /**
   * The true fraud probability of a transaction whose {@link FeatureSpec} features are {@code
   * features[offset .. offset + FeatureSpec.size())}: the formula of the class documentation.
   */
  public static double fraudProbability(float[] features, int offset) {
    double ratio = features[offset + AMOUNT_TO_CARD_MEAN];
    double amountLog = features[offset + AMOUNT_LOG];
    double online = features[offset + IS_ONLINE];
    double atm = features[offset + IS_ATM];
    double night = features[offset + IS_NIGHT];
    double risky = features[offset + IS_HIGH_RISK_COUNTRY];
    double logRatio = Math.log(Math.max(ratio, 1e-9) / 5);
    double hump = Math.exp(-logRatio * logRatio / 0.5);
    double tiny = Math.min(1, Math.max(0, (0.2 - ratio) / 0.1));
    double spree = features[offset + SECONDS_SINCE_LAST_LOG] < 4.8 ? 1 : 0;
    double notPresent = online + atm;
    double pos = 1 - notPresent;
    double z =
        -5.5
            - 1.0 * notPresent
            + 3.0 * hump * notPresent
            + 3.0 * tiny * online * spree
            + 2.0 * spree * notPresent
            - 2.0 * spree * pos
            + 1.5 * risky * online
            - 1.5 * risky * pos
            + 1.5 * atm * night
            + MERCHANT_RISK_WEIGHT * features[offset + MERCHANT_RISK]
            + MERCHANT_UNKNOWN_WEIGHT * features[offset + MERCHANT_UNKNOWN];
    return 1 / (1 + Math.exp(-z));
  }

  /** The next transaction on the generator's own clock (exponential gaps of {@code meanGapMs}). */
  public Labelled next() {
    clockMs += Math.max(1L, (long) (-Math.log(1 - random.nextDouble()) * options.meanGapMs()));
    return next(clockMs);
  }

  /** The next transaction at {@code eventTimeMs} (for live streams on the wall clock). */
  public Labelled next(long eventTimeMs) {
    FollowUp due = followUps.peek();
    Transaction txn;
    if (due != null && due.dueMs() <= eventTimeMs) {
      followUps.poll();
      txn =
          switch (due.kind()) {
            case NORMAL -> normal(due.card(), eventTimeMs);
            case RISKY -> risky(due.card(), eventTimeMs);
            case TEST -> test(due.card(), eventTimeMs);
          };
    } else {
      Card card = cards[random.nextInt(cards.length)];
      double rate = options.fraudRate() * (hourOf(eventTimeMs) < 6 ? 3 : 1);
      if (random.nextDouble() < rate) {
        txn = random.nextDouble() < 0.4 ? test(card, eventTimeMs) : risky(card, eventTimeMs);
      } else {
        txn = normal(card, eventTimeMs);
      }
    }
    return label(txn);
  }

  /** Features as the enrich stage computes them, the true probability, and the drawn label. */
  private Labelled label(Transaction txn) {
    CardState prior = states.getOrDefault(txn.getCardId(), CardState.getDefaultInstance());
    FeatureSpec.compute(txn, prior, MERCHANT_RISKS, features, 0);
    states.put(txn.getCardId(), FeatureSpec.apply(prior, txn, MERCHANT_RISKS));
    double p = fraudProbability(features, 0);
    return new Labelled(txn, random.nextDouble() < p, p);
  }

  /** A card test: a small online payment; the episode goes on with another test or a cash-out. */
  private Transaction test(Card card, long eventTimeMs) {
    if (followUps.size() < 1_000) {
      Kind next = random.nextDouble() < 0.5 ? Kind.TEST : Kind.RISKY;
      followUps.add(new FollowUp(card, eventTimeMs + 5_000 + random.nextLong(55_000), next));
    }
    double amount = 0.5 + 2.5 * random.nextDouble();
    String country = random.nextDouble() < 0.5 ? pick(RISKY_COUNTRIES) : pick(HOME_COUNTRIES);
    return build(card, eventTimeMs, amount, Channel.ONLINE, country, episodeMerchant());
  }

  private Transaction risky(Card card, long eventTimeMs) {
    boolean episodeGoesOn = random.nextDouble() < 0.6 && followUps.size() < 1_000;
    if (episodeGoesOn) {
      followUps.add(new FollowUp(card, eventTimeMs + 5_000 + random.nextLong(115_000), Kind.RISKY));
    }
    double amount = card.typicalAmount() * (3 + 17 * random.nextDouble());
    double c = random.nextDouble();
    Channel channel = c < 0.7 ? Channel.ONLINE : c < 0.9 ? Channel.ATM : Channel.POS;
    String country =
        random.nextDouble() < 0.6
            ? pick(RISKY_COUNTRIES)
            : random.nextBoolean() ? card.home() : pick(HOME_COUNTRIES);
    return build(card, eventTimeMs, amount, channel, country, episodeMerchant());
  }

  private Transaction normal(Card card, long eventTimeMs) {
    if (random.nextDouble() < 1.0 / 3 && followUps.size() < 1_000) {
      followUps.add(
          new FollowUp(card, eventTimeMs + 10_000 + random.nextLong(590_000), Kind.NORMAL));
    }
    double amount = card.typicalAmount() * Math.exp(0.4 * gaussian());
    double c = random.nextDouble();
    Channel channel =
        c < card.onlineShare()
            ? Channel.ONLINE
            : c < card.onlineShare() + 0.05 ? Channel.ATM : Channel.POS;
    if (random.nextDouble() < 0.03) {
      // A big purchase, mostly in a shop.
      amount = card.typicalAmount() * (3 + 12 * random.nextDouble());
      channel = random.nextDouble() < 0.8 ? Channel.POS : Channel.ONLINE;
    }
    double place = random.nextDouble();
    // Travellers pay abroad, also in the countries a feature spec calls high risk.
    String country =
        place < 0.92 ? card.home() : place < 0.97 ? pick(HOME_COUNTRIES) : pick(RISKY_COUNTRIES);
    return build(card, eventTimeMs, amount, channel, country, anyMerchant());
  }

  private Merchant anyMerchant() {
    return MERCHANTS[random.nextInt(MERCHANTS.length)];
  }

  /** Half of an episode's transactions are at a high-risk or unknown merchant. */
  private Merchant episodeMerchant() {
    return random.nextBoolean()
        ? RISKY_MERCHANTS[random.nextInt(RISKY_MERCHANTS.length)]
        : anyMerchant();
  }

  private Transaction build(
      Card card,
      long eventTimeMs,
      double amount,
      Channel channel,
      String country,
      Merchant merchant) {
    long n = sequence++;
    return Transaction.newBuilder()
        .setTransactionId(String.format("tx-%d-%d", options.seed(), n))
        .setCardId(card.id())
        .setMerchantId(merchant.id())
        .setAmount(Math.round(amount * 100) / 100.0)
        .setCurrency(CURRENCIES.get(Math.floorMod(card.id().hashCode(), CURRENCIES.size())))
        .setEventTimeMs(eventTimeMs)
        .setChannel(channel)
        .setCountry(country)
        .setMerchantCategory(merchant.category())
        .build();
  }

  private String pick(List<String> values) {
    return values.get(random.nextInt(values.size()));
  }

  private double gaussian() {
    // Box-Muller on the splittable stream, so the sequence depends on the seed only.
    double u1 = 1 - random.nextDouble();
    double u2 = random.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  private static int hourOf(long epochMs) {
    return Instant.ofEpochMilli(epochMs).atZone(ZoneOffset.UTC).getHour();
  }
}
