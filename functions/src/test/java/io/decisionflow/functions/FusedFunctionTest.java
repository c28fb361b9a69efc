package io.decisionflow.functions;

import static io.decisionflow.stages.Fixtures.transaction;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.schemas.DeadLetter;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.state.CardState;
import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.enrich.FeatureSpec;
import io.decisionflow.stages.score.Model;
import io.decisionflow.stages.score.ModelManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FusedFunctionTest {

  private static final String NS = "persistent://payments/fraud/";

  @TempDir Path dir;

  /** Rows each opened model scored, by model version. */
  private final Map<String, List<Integer>> batches = new LinkedHashMap<>();

  /** A model directory with a manifest of {@code version} on the current feature spec. */
  private Path modelDir(String version) throws Exception {
    Path model = Files.createDirectories(dir.resolve("models").resolve(version));
    new ModelManifest(
            "fraud",
            version,
            FeatureSpec.VERSION,
            FeatureSpec.NAMES,
            0.5,
            Map.of("auc", 0.9),
            Map.of("seed", 1))
        .write(model);
    return model;
  }

  /** Opens a fake model that scores every row {@code score}: v1 0.9, any other 0.1. */
  private Model open(Path modelDir) {
    ModelManifest manifest = ModelManifest.read(modelDir);
    float score = manifest.version().equals("v1") ? 0.9f : 0.1f;
    return new Model() {
      @Override
      public ModelManifest manifest() {
        return manifest;
      }

      @Override
      public float[] score(float[] rows, int count) {
        batches.computeIfAbsent(manifest.version(), v -> new ArrayList<>()).add(count);
        float[] scores = new float[count];
        Arrays.fill(scores, score);
        return scores;
      }

      @Override
      public void close() {}
    };
  }

  private Map<String, Object> config(List<Map<String, Object>> shadows) throws Exception {
    Map<String, Object> route = new LinkedHashMap<>();
    route.put("arms", List.of(Map.of("name", "champion", "slot", "champion", "weight", 100)));
    route.put("shadows", shadows);
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("enrich", Map.of("featureSpecVersion", FeatureSpec.VERSION));
    config.put("route", route);
    config.put(
        "slots",
        Map.of(
            "champion", Map.of("modelLocation", modelDir("v1").toString(), "maxBatchWaitMs", 0),
            "challenger", Map.of("modelLocation", modelDir("v2").toString(), "maxBatchWaitMs", 0)));
    config.put("decide", Map.of("threshold", 0.5));
    return config;
  }

  private FusedFunction initialized(FakeContext context) throws Exception {
    FusedFunction function =
        new FusedFunction(this::open, (ctx, topic) -> new EnrichFunctionTest.FakeMerchants());
    function.initialize(context);
    return function;
  }

  private static FakeContext context(Map<String, Object> config, byte[] input) {
    return new FakeContext(config)
        .withFunction("fused", List.of(NS + "transactions"), null)
        .withCurrentRecord(FakeContext.input(NS + "transactions", "card-1", input));
  }

  @Test
  void enrichesRoutesScoresAndDecidesARecordInOneFunction() throws Exception {
    // Given the champion's model scores 0.9 against a threshold of 0.5
    byte[] input = transaction().build().toByteArray();
    FakeContext context = context(config(List.of()), input);
    FusedFunction function = initialized(context);

    // When
    assertThat(function.process(input, context)).isNull();

    // Then one decision, stored on decisions and on fraud-alerts, with the lineage of every
    // stage; the record acknowledged once its card's state is durable
    List<Decision> decisions = context.outputsTo(NS + "decisions", Decision.class);
    assertThat(decisions).hasSize(1);
    Decision decision = decisions.get(0);
    assertThat(decision.getOutcome()).isEqualTo("ALERT");
    assertThat(decision.getArm()).isEqualTo("champion");
    assertThat(decision.getModelVersion()).isEqualTo("v1");
    assertThat(decision.getScore()).isCloseTo(0.9, org.assertj.core.data.Offset.offset(1e-6));
    assertThat(decision.getTransactionId()).isEqualTo("txn-1");
    assertThat(decision.getEnrichedAtMs()).isPositive();
    assertThat(decision.getRoutedAtMs()).isGreaterThanOrEqualTo(decision.getEnrichedAtMs());
    assertThat(decision.getScoredAtMs()).isGreaterThanOrEqualTo(decision.getRoutedAtMs());
    assertThat(decision.getDecidedAtMs()).isGreaterThanOrEqualTo(decision.getScoredAtMs());
    assertThat(context.outputsTo(NS + "fraud-alerts", Decision.class)).containsExactly(decision);
    assertThat(context.outputsTo(NS + "transactions-ok", Decision.class)).isEmpty();
    assertThat(context.outputs()).allMatch(o -> "card-1".equals(o.key()));
    assertThat(CardState.parseFrom(context.state("card:card-1").orElseThrow()).getCount())
        .isEqualTo(1);
    assertThat(record(context).acks()).isEqualTo(1);
    assertThat(batches).containsOnlyKeys("v1", "v2"); // both slots' models warmed up
    assertThat(
            function
                .metrics()
                .value(
                    "decisionflow_decisions_total",
                    "arm",
                    "champion",
                    "model_version",
                    "v1",
                    "decision",
                    "alert"))
        .isEqualTo(1.0);
  }

  @Test
  void aShadowArmIsScoredToShadowScoresAndNeverDecided() throws Exception {
    // Given every card mirrored to the challenger slot
    byte[] input = transaction().build().toByteArray();
    FakeContext context =
        context(
            config(List.of(Map.of("name", "canary", "slot", "challenger", "mirrorPercent", 100))),
            input);
    FusedFunction function = initialized(context);

    // When
    function.process(input, context);

    // Then the champion decides and the challenger's score goes to shadow-scores only
    assertThat(context.outputsTo(NS + "decisions", Decision.class))
        .singleElement()
        .extracting(Decision::getModelVersion)
        .isEqualTo("v1");
    List<Score> shadow = context.outputsTo(NS + "shadow-scores", Score.class);
    assertThat(shadow).hasSize(1);
    assertThat(shadow.get(0).getModelVersion()).isEqualTo("v2");
    assertThat(shadow.get(0).getRequest().getShadow()).isTrue();
    assertThat(record(context).acks()).isEqualTo(1);
  }

  @Test
  void aMalformedRecordIsADeadLetterOfTheFusedStage() throws Exception {
    byte[] garbage = {0x0A, 0x05, 0x61};
    FakeContext context = context(config(List.of()), garbage);
    FusedFunction function = initialized(context);

    function.process(garbage, context);

    DeadLetter letter = context.outputsTo(NS + "dead-letters", DeadLetter.class).get(0);
    assertThat(letter.getStage()).isEqualTo("fused");
    assertThat(letter.getReason()).startsWith("record is not a Transaction");
    assertThat(context.outputsTo(NS + "decisions", Decision.class)).isEmpty();
  }

  @Test
  void aRoutedSlotWithoutSettingsIsRefusedNamingIt() throws Exception {
    Map<String, Object> config = config(List.of());
    config.put("slots", Map.of("challenger", Map.of("modelLocation", modelDir("v2").toString())));

    assertThatThrownBy(() -> initialized(context(config, new byte[0])))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("userConfig.slots")
        .hasMessageContaining("no section for slot 'champion'");
  }

  @Test
  void aBadSettingInASectionIsNamedWithItsSection() throws Exception {
    Map<String, Object> config = config(List.of());
    config.put("enrich", Map.of("maxCachedCards", 0));
    Map<String, Object> badSlot = config(List.of());
    badSlot.put("slots", Map.of("champion", Map.of("modelLocation", "/no/such/model")));

    assertThatThrownBy(() -> initialized(context(config, new byte[0])))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("userConfig.enrich.maxCachedCards");
    assertThatThrownBy(() -> initialized(context(badSlot, new byte[0])))
        .hasMessageContaining("/no/such/model");
  }

  private static FakeContext.FakeRecord<?> record(FakeContext context) {
    return (FakeContext.FakeRecord<?>) context.getCurrentRecord();
  }
}
