package io.decisionflow.functions;

import static io.decisionflow.stages.Fixtures.transaction;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import io.decisionflow.schemas.DeadLetter;
import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Feature;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.reference.MerchantRisk;
import io.decisionflow.schemas.state.CardState;
import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.enrich.FeatureSpec;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class EnrichFunctionTest {

  private static final String TRANSACTIONS = "persistent://payments/fraud/transactions";
  private static final String DEAD_LETTERS = "persistent://payments/fraud/dead-letters";

  /** A length-delimited field 1 that claims 5 bytes but has 1: not a protobuf message. */
  private static final byte[] MALFORMED = {0x0A, 0x05, 0x61};

  private static final String MERCHANTS = "persistent://payments/fraud/merchants";

  /** The merchants topic: the records there at start, then those the test pushes. */
  static final class FakeMerchants implements EnrichFunction.MerchantSource {
    final List<MerchantUpdate> atStart = new ArrayList<>();
    String topic;
    private Consumer<MerchantUpdate> follower;
    boolean closed;

    FakeMerchants with(String merchantId, double risk) {
      atStart.add(update(merchantId, risk));
      return this;
    }

    @Override
    public List<MerchantUpdate> loaded() {
      return atStart;
    }

    @Override
    public void follow(Consumer<MerchantUpdate> onUpdate) {
      follower = onUpdate;
    }

    void push(MerchantUpdate update) {
      follower.accept(update);
    }

    @Override
    public long ignored() {
      return 0;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  private final FakeMerchants merchants = new FakeMerchants();

  private static MerchantUpdate update(String merchantId, double risk) {
    return new MerchantUpdate(
        merchantId, MerchantRisk.newBuilder().setMerchantId(merchantId).setRisk(risk).build());
  }

  private static final String ENRICHED = "persistent://payments/fraud/transactions-enriched";

  /** What the function published on its output, in order. */
  private final List<EnrichedTransaction> published = new ArrayList<>();

  private final List<String> publishedKeys = new ArrayList<>();

  private FakeContext.FakeRecord<byte[]> record;

  private FakeContext context(Map<String, Object> userConfig, byte[] input) {
    record = FakeContext.input(TRANSACTIONS, "card-1", input);
    return new FakeContext(userConfig)
        .withFunction("enrich", List.of(TRANSACTIONS), ENRICHED)
        .withCurrentRecord(record);
  }

  private EnrichFunction initialized(FakeContext context) throws Exception {
    EnrichFunction function =
        new EnrichFunction(
            (ctx, config, metrics) ->
                new EnrichFunction.Output() {
                  @Override
                  public CompletableFuture<?> send(
                      String key, long eventTimeMs, EnrichedTransaction value) {
                    published.add(value);
                    publishedKeys.add(key);
                    return CompletableFuture.completedFuture(null);
                  }

                  @Override
                  public void close() {}
                },
            (ctx, topic) -> {
              merchants.topic = topic;
              return merchants;
            });
    function.initialize(context);
    return function;
  }

  private static double feature(EnrichedTransaction enriched, String name) {
    return enriched.getFeatures(FeatureSpec.NAMES.indexOf(name)).getValue();
  }

  /** Processes the input and returns the record it published. */
  private EnrichedTransaction enrichedOf(EnrichFunction function, byte[] input, FakeContext context)
      throws Exception {
    int before = published.size();
    process(function, input, context);
    assertThat(published).hasSize(before + 1);
    return published.get(before);
  }

  /** Processes the input; the runtime gets nothing to publish (the function publishes itself). */
  private static void process(EnrichFunction function, byte[] input, FakeContext context)
      throws Exception {
    assertThat(function.process(input, context)).isNull();
  }

  @Test
  void enrichesAValidTransactionAndStoresTheCardStateAsCardStateProtobuf() throws Exception {
    // Given
    byte[] input = transaction().build().toByteArray();
    FakeContext context = context(Map.of(), input);
    EnrichFunction function = initialized(context);

    // When
    process(function, input, context);

    // Then: published under the card's key and acknowledged, its state durable
    assertThat(published).hasSize(1);
    assertThat(publishedKeys).containsExactly("card-1");
    assertThat(record.acks()).isEqualTo(1);
    assertThat(record.fails()).isZero();
    EnrichedTransaction enriched = published.get(0);
    assertThat(enriched.getTransaction()).isEqualTo(Transaction.parseFrom(input));
    assertThat(enriched.getFeaturesList())
        .extracting(Feature::getName)
        .containsExactlyElementsOf(FeatureSpec.NAMES);
    CardState state = CardState.parseFrom(context.state("card:card-1").orElseThrow());
    assertThat(state.getCount()).isEqualTo(1);
    assertThat(state.getAmountSum()).isEqualTo(100.0);
    assertThat(state.getLastTransactionId()).isEqualTo("txn-1");
    assertThat(context.outputs()).isEmpty();
  }

  @Test
  void readsTheCardStateStoredUnderTheConfiguredPrefix() throws Exception {
    // Given: a card with 4 transactions of mean 50 in state, numbers in userConfig as text
    CardState prior =
        CardState.newBuilder()
            .setCount(4)
            .setAmountSum(200.0)
            .setLastEventTimeMs(1L)
            .setLastTransactionId("txn-0")
            .build();
    byte[] input = transaction().setAmount(150.0).build().toByteArray();
    FakeContext context =
        context(Map.of("stateKeyPrefix", "fraud-card/", "maxCachedCards", "1000"), input);
    context.putState("fraud-card/card-1", ByteBuffer.wrap(prior.toByteArray()));
    EnrichFunction function = initialized(context);

    // When
    process(function, input, context);

    // Then
    EnrichedTransaction enriched = published.get(0);
    assertThat(enriched.getFeatures(1).getName()).isEqualTo("amount_to_card_mean");
    assertThat(enriched.getFeatures(1).getValue()).isCloseTo(3.0, within(1e-6)); // 150 / 50
    assertThat(enriched.getFeatures(2).getValue()).isCloseTo(1.609438, within(1e-5)); // ln 5
    CardState state = CardState.parseFrom(context.state("fraud-card/card-1").orElseThrow());
    assertThat(state.getCount()).isEqualTo(5);
    assertThat(state.getLastTransactionId())
        .isEqualTo(enriched.getTransaction().getTransactionId());
    assertThat(state.getLastFeaturesCount()).isEqualTo(enriched.getFeaturesCount());
  }

  @Test
  void retriesTheRecordFromADelayedCopyWhenTheStoredStateIsNotACardState() throws Exception {
    // Given
    byte[] input = transaction().build().toByteArray();
    FakeContext context = context(Map.of(), input);
    context.putState("card:card-1", ByteBuffer.wrap(MALFORMED));
    EnrichFunction function = initialized(context);

    // When
    process(function, input, context);

    // Then: a copy for attempt 2 goes back to transactions after 1 s (the default wait), the
    // original is acknowledged once the copy is stored, and nothing is published
    List<FakeContext.Output> copies =
        context.outputs().stream().filter(o -> o.topic().equals(TRANSACTIONS)).toList();
    assertThat(copies).hasSize(1);
    assertThat((byte[]) copies.get(0).value()).isEqualTo(input);
    assertThat(copies.get(0).key()).isEqualTo("card-1");
    assertThat(copies.get(0).properties())
        .containsEntry(Retries.ATTEMPT, "2")
        .containsEntry("origin", "test");
    assertThat(copies.get(0).deliverAfterMs()).isEqualTo(1000L);
    assertThat(record.acks()).isEqualTo(1);
    assertThat(record.fails()).isZero();
    assertThat(published).isEmpty();
    assertThat(context.outputsTo(DEAD_LETTERS, DeadLetter.class)).isEmpty();
  }

  @Test
  void deadLettersTheRecordAfterItsLastAttemptWithTheAttemptsAndTheCause() throws Exception {
    // Given: the 3rd attempt of a record, with maxAttempts 3
    byte[] input = transaction().build().toByteArray();
    FakeContext context = context(Map.of("maxAttempts", 3), input);
    record.withProperty(Retries.ATTEMPT, "3");
    context.putState("card:card-1", ByteBuffer.wrap(MALFORMED));
    EnrichFunction function = initialized(context);

    // When
    process(function, input, context);

    // Then: no further copy; a dead letter that says how often and why; acknowledged
    assertThat(context.outputs()).noneMatch(o -> o.topic().equals(TRANSACTIONS));
    List<DeadLetter> letters = context.outputsTo(DEAD_LETTERS, DeadLetter.class);
    assertThat(letters).hasSize(1);
    DeadLetter letter = letters.get(0);
    assertThat(letter.getStage()).isEqualTo("enrich");
    assertThat(letter.getAttempts()).isEqualTo(3);
    assertThat(letter.getReason()).startsWith("enrich failed 3 times, last: ");
    assertThat(letter.getErrorClass()).isNotBlank();
    assertThat(letter.getOriginal().toByteArray()).isEqualTo(input);
    assertThat(letter.getPropertiesMap()).containsEntry(Retries.ATTEMPT, "3");
    assertThat(record.acks()).isEqualTo(1);
    assertThat(record.fails()).isZero();
  }

  @Test
  void rejectsAnInvalidUserConfigAtInitializeNamingTheField() {
    // Given
    FakeContext context = context(Map.of("maxCachedCards", "0"), new byte[0]);

    // When / Then
    assertThatThrownBy(() -> initialized(context))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("userConfig.maxCachedCards: must be at least 1");
  }

  @Test
  void deadLettersAMalformedRecordWithItsOriginalBytes() throws Exception {

    // Given
    FakeContext context = context(Map.of(), MALFORMED);
    EnrichFunction function = initialized(context);

    // When
    process(function, MALFORMED, context);

    // Then: dead-lettered, then acknowledged
    assertThat(record.acks()).isEqualTo(1);
    assertThat(published).isEmpty();
    List<DeadLetter> letters = context.outputsTo(DEAD_LETTERS, DeadLetter.class);
    assertThat(letters).hasSize(1);
    DeadLetter letter = letters.get(0);
    assertThat(letter.getStage()).isEqualTo("enrich");
    assertThat(letter.getField()).isEqualTo("record");
    assertThat(letter.getValue()).isEqualTo("'3 bytes'");
    assertThat(letter.getErrorClass()).isEqualTo(InvalidRecordException.class.getName());
    assertThat(letter.getOriginal()).isEqualTo(ByteString.copyFrom(MALFORMED));
    assertThat(letter.getSourceTopic()).isEqualTo(TRANSACTIONS);
    assertThat(letter.getKey()).isEqualTo("card-1");
    assertThat(context.outputs()).extracting(FakeContext.Output::key).containsExactly("card-1");
    assertThat(context.state("card:card-1")).isEmpty();
  }

  @Test
  void deadLettersAnInvalidTransactionNamingTheField() throws Exception {

    // Given
    byte[] input = transaction().setAmount(-5.0).build().toByteArray();
    FakeContext context = context(Map.of(), input);
    EnrichFunction function = initialized(context);

    // When
    process(function, input, context);

    // Then
    List<DeadLetter> letters = context.outputsTo(DEAD_LETTERS, DeadLetter.class);
    assertThat(letters).hasSize(1);
    DeadLetter letter = letters.get(0);
    assertThat(letter.getField()).isEqualTo("amount");
    assertThat(letter.getValue()).isEqualTo("-5.0");
    assertThat(letter.getReason()).isEqualTo("amount must be >= 0, was -5.0");
    assertThat(letter.getOriginal().toByteArray()).isEqualTo(input);
  }

  @Test
  void theFirstRecordSeesTheMerchantTableLoadedFromTheUnitsMerchantsTopic() throws Exception {
    // Given merchant-1 rated 0.4 on the unit's merchants topic before the function starts
    merchants.with("merchant-1", 0.4).with("merchant-2", 0.9);
    merchants.atStart.add(MerchantUpdate.delete("merchant-2"));
    byte[] input = transaction().setMerchantId("merchant-1").build().toByteArray();
    FakeContext context = context(Map.of(), input);

    // When
    EnrichFunction function = initialized(context);
    EnrichedTransaction enriched = enrichedOf(function, input, context);

    // Then
    assertThat(merchants.topic).isEqualTo(MERCHANTS);
    assertThat(enriched.getFeatureSpecVersion()).isEqualTo("v3");
    assertThat(feature(enriched, "merchant_risk")).isEqualTo(0.4f);
    assertThat(feature(enriched, "merchant_unknown")).isZero();
    assertThat(function.merchants().snapshot()).containsOnlyKeys("merchant-1");
    function.close();
    assertThat(merchants.closed).isTrue();
  }

  @Test
  void appliesMerchantUpdatesAndTombstonesLiveToTheNextRecords() throws Exception {
    // Given
    byte[] first = transaction().setTransactionId("t1").build().toByteArray();
    FakeContext context = context(Map.of(), first);
    EnrichFunction function = initialized(context);
    assertThat(feature(enrichedOf(function, first, context), "merchant_unknown")).isEqualTo(1);

    // When merchant-1 is rated while the function runs
    merchants.push(update("merchant-1", 0.7));
    byte[] second =
        transaction()
            .setTransactionId("t2")
            .setEventTimeMs(2_000_000_000_000L)
            .build()
            .toByteArray();
    EnrichedTransaction enriched = enrichedOf(function, second, context);

    // Then the next record sees it, and the gauges count it
    assertThat(feature(enriched, "merchant_risk")).isEqualTo(0.7f);
    assertThat(function.metrics().value("decisionflow_enrich_merchants")).isEqualTo(1.0);

    // When a tombstone deletes it
    merchants.push(MerchantUpdate.delete("merchant-1"));
    byte[] third =
        transaction()
            .setTransactionId("t3")
            .setEventTimeMs(2_000_000_060_000L)
            .build()
            .toByteArray();
    EnrichedTransaction after = enrichedOf(function, third, context);

    // Then it is unknown again
    assertThat(feature(after, "merchant_risk")).isZero();
    assertThat(feature(after, "merchant_unknown")).isEqualTo(1);
    assertThat(function.metrics().value("decisionflow_enrich_merchant_updates_total"))
        .isEqualTo(2.0);
    assertThat(function.metrics().value("decisionflow_records_out_total", "stage", "enrich"))
        .isEqualTo(3.0);
    assertThat(function.metrics().value("decisionflow_state_latency_seconds_count", "op", "save"))
        .isPositive();
    function.close();
  }

  @Test
  void aMerchantsRecordWithAnEmptyValueIsATombstone() {
    assertThat(MerchantUpdates.parse("merchant-1", null).deletes()).isTrue();
    assertThat(MerchantUpdates.parse("merchant-1", new byte[0]).deletes()).isTrue();
    assertThat(MerchantUpdates.parse("merchant-1", new byte[0]).merchantId())
        .isEqualTo("merchant-1");
  }

  @Test
  void aMerchantsRecordThatCannotEnterTheTableIsRefusedNamingTheFieldAndValue() {
    byte[] tooRisky =
        MerchantRisk.newBuilder().setMerchantId("merchant-1").setRisk(1.7).build().toByteArray();
    byte[] notANumber =
        MerchantRisk.newBuilder()
            .setMerchantId("merchant-1")
            .setRisk(Double.NaN)
            .build()
            .toByteArray();
    byte[] noId = MerchantRisk.newBuilder().setRisk(0.5).build().toByteArray();
    byte[] good =
        MerchantRisk.newBuilder().setMerchantId("merchant-1").setRisk(0.5).build().toByteArray();

    assertThatThrownBy(() -> MerchantUpdates.parse("merchant-1", tooRisky))
        .isInstanceOf(InvalidRecordException.class)
        .hasMessage("risk must be in [0, 1], was 1.7");
    assertThatThrownBy(() -> MerchantUpdates.parse("merchant-1", notANumber))
        .hasMessage("risk must be in [0, 1], was NaN");
    assertThatThrownBy(() -> MerchantUpdates.parse("merchant-1", noId))
        .hasMessage("merchant_id is required, was <empty>");
    assertThatThrownBy(() -> MerchantUpdates.parse("merchant-2", good))
        .hasMessage("merchant_id must equal the record's key 'merchant-2', was 'merchant-1'");
    assertThatThrownBy(() -> MerchantUpdates.parse(null, good))
        .hasMessageStartingWith("key is required");
    assertThatThrownBy(() -> MerchantUpdates.parse("merchant-1", MALFORMED))
        .hasMessageStartingWith("record is not a MerchantRisk");
    assertThat(MerchantUpdates.parse("merchant-1", good).row().getRisk()).isEqualTo(0.5);
  }
}
