package io.decisionflow.models.synthetic;

import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.Transaction;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Synthetic, labelled card transactions with documented fraud patterns. Deterministic for a seed.
 *
 * <p><b>Cards.</b> {@code cards} cards {@code card-000000 ...}, each with a typical amount
 * (log-normal, median 40, sigma 0.6), a home country (one of {@link #HOME_COUNTRIES}) and an online
 * share (uniform 10-50%).
 *
 * <p><b>Legitimate transactions.</b> amount = typical x log-normal(0, 0.4); channel ONLINE with the
 * card's online share, ATM 5%, else POS; country: home 95%, else another home country.
 *
 * <p><b>Fraud.</b> A transaction starts a fraud episode with probability {@code fraudRate} (tripled
 * between 00:00 and 05:59 UTC of its event time). A fraud transaction has amount = typical x
 * uniform(3, 20); channel ONLINE 70%, ATM 20%, POS 10%; country high-risk ({@link
 * #RISKY_COUNTRIES}) 60%, else any. An episode goes on with 0-3 more fraud transactions on the same
 * card, each 5-120 s after the previous one.
 *
 * <p>The label of each transaction is whether it was drawn from the fraud pattern.
 */
public final class TransactionGenerator {

  /** A transaction and whether it is fraud. */
  public record Labelled(Transaction transaction, boolean fraud) {}

  /** Settings. */
  public record Options(long seed, int cards, double fraudRate, long startMs, long meanGapMs) {
    public static Options defaults(long seed) {
      return new Options(seed, 2_000, 0.02, 1_767_225_600_000L, 1_000L);
    }
  }

  /** Seed of the card profiles, the same for every stream. */
  public static final long PROFILE_SEED = 20_260_101L;

  public static final List<String> HOME_COUNTRIES =
      List.of("DE", "FR", "NL", "ES", "IT", "US", "GB", "PL");
  public static final List<String> RISKY_COUNTRIES = List.of("NG", "RU", "BR", "ID", "VN", "UA");
  private static final List<String> CURRENCIES = List.of("EUR", "USD", "GBP");
  private static final List<String> MCC = List.of("5411", "5812", "5999", "4111", "5732", "7011");

  private record Card(String id, double typicalAmount, String home, double onlineShare) {}

  private record FollowUp(Card card, long dueMs, boolean fraud) {}

  private final Options options;
  private final Card[] cards;
  private final SplittableRandom random;
  private final PriorityQueue<FollowUp> followUps =
      new PriorityQueue<>(Comparator.comparingLong(FollowUp::dueMs));
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

  /** The next transaction on the generator's own clock (exponential gaps of {@code meanGapMs}). */
  public Labelled next() {
    clockMs += Math.max(1L, (long) (-Math.log(1 - random.nextDouble()) * options.meanGapMs()));
    return next(clockMs);
  }

  /** The next transaction at {@code eventTimeMs} (for live streams on the wall clock). */
  public Labelled next(long eventTimeMs) {
    FollowUp due = followUps.peek();
    if (due != null && due.dueMs() <= eventTimeMs) {
      followUps.poll();
      return due.fraud()
          ? fraud(due.card(), eventTimeMs)
          : new Labelled(legitimate(due.card(), eventTimeMs), false);
    }
    Card card = cards[random.nextInt(cards.length)];
    double rate = options.fraudRate() * (hourOf(eventTimeMs) < 6 ? 3 : 1);
    if (random.nextDouble() < rate) {
      return fraud(card, eventTimeMs);
    }
    return new Labelled(legitimate(card, eventTimeMs), false);
  }

  private Labelled fraud(Card card, long eventTimeMs) {
    boolean episodeGoesOn = random.nextDouble() < 0.6 && followUps.size() < 1_000;
    if (episodeGoesOn) {
      followUps.add(new FollowUp(card, eventTimeMs + 5_000 + random.nextLong(115_000), true));
    }
    double amount = card.typicalAmount() * (3 + 17 * random.nextDouble());
    double c = random.nextDouble();
    Channel channel = c < 0.7 ? Channel.ONLINE : c < 0.9 ? Channel.ATM : Channel.POS;
    String country =
        random.nextDouble() < 0.6
            ? pick(RISKY_COUNTRIES)
            : random.nextBoolean() ? card.home() : pick(HOME_COUNTRIES);
    return new Labelled(build(card, eventTimeMs, amount, channel, country), true);
  }

  private Transaction legitimate(Card card, long eventTimeMs) {
    if (random.nextDouble() < 1.0 / 3 && followUps.size() < 1_000) {
      followUps.add(new FollowUp(card, eventTimeMs + 10_000 + random.nextLong(590_000), false));
    }
    double amount = card.typicalAmount() * Math.exp(0.4 * gaussian());
    double c = random.nextDouble();
    Channel channel =
        c < card.onlineShare()
            ? Channel.ONLINE
            : c < card.onlineShare() + 0.05 ? Channel.ATM : Channel.POS;
    String country = random.nextDouble() < 0.95 ? card.home() : pick(HOME_COUNTRIES);
    return build(card, eventTimeMs, amount, channel, country);
  }

  private Transaction build(
      Card card, long eventTimeMs, double amount, Channel channel, String country) {
    long n = sequence++;
    return Transaction.newBuilder()
        .setTransactionId(String.format("tx-%d-%d", options.seed(), n))
        .setCardId(card.id())
        .setMerchantId("merchant-" + random.nextInt(500))
        .setAmount(Math.round(amount * 100) / 100.0)
        .setCurrency(CURRENCIES.get(Math.floorMod(card.id().hashCode(), CURRENCIES.size())))
        .setEventTimeMs(eventTimeMs)
        .setChannel(channel)
        .setCountry(country)
        .setMerchantCategory(pick(MCC))
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
