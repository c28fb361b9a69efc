package io.decisionflow.stages.score;

import static io.decisionflow.stages.Fixtures.CLOCK;
import static io.decisionflow.stages.Fixtures.ENRICHED_AT_MS;
import static io.decisionflow.stages.Fixtures.NOW;
import static io.decisionflow.stages.Fixtures.ROUTED_AT_MS;
import static io.decisionflow.stages.Fixtures.scoringRequest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.decisionflow.schemas.Feature;
import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.enrich.FeatureSpec;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ScoreStageTest {

  private static ScoreConfig config(String slot) {
    ScoreConfig config = new ScoreConfig();
    config.modelSlot = slot;
    config.modelLocation = "/models/fraud-v7";
    return config;
  }

  private final FakeModel model = FakeModel.ofCurrentSpec();

  private ScoreStage stage() {
    return new ScoreStage(config("champion"), model, CLOCK);
  }

  @Test
  void passesTheFeatureValuesInSpecOrderAsTheModelsRow() {
    // Given
    ScoreStage stage = stage();
    ScoringRequest request = scoringRequest().build();
    List<Feature> features = request.getEnriched().getFeaturesList();

    // When
    stage.score(request);

    // Then
    assertThat(model.rows()).hasSize(1);
    float[] row = model.rows().get(0);
    assertThat(row).hasSize(FeatureSpec.size());
    for (int i = 0; i < row.length; i++) {
      assertThat(features.get(i).getName()).isEqualTo(FeatureSpec.NAMES.get(i));
      assertThat(row[i]).isEqualTo((float) features.get(i).getValue());
    }
  }

  @Test
  void aShadowRequestIsScoredLikeAnyOtherAndItsScoreSaysShadow() {
    // Given a shadow arm's mirrored copy
    ScoreStage stage = stage();
    ScoringRequest request = scoringRequest().setShadow(true).setArm("candidate").build();

    // When
    Score score = stage.score(request);

    // Then the score keeps the flag, which keeps it away from decisions
    assertThat(score.getRequest().getShadow()).isTrue();
    assertThat(score.getRequest().getArm()).isEqualTo("candidate");
    assertThat(score.getScore()).isEqualTo(FakeModel.scoreOf(model.rows().get(0)));
  }

  @Test
  void scoreCarriesSlotVersionModelOutputAndScoredAt() {
    // Given
    ScoreStage stage = stage();
    ScoringRequest request = scoringRequest().build();

    // When
    Score score = stage.score(request);

    // Then
    assertThat(score.getModelSlot()).isEqualTo("champion");
    assertThat(score.getModelVersion()).isEqualTo("v7");
    assertThat(score.getFallback()).isFalse();
    assertThat(score.getScore()).isEqualTo(FakeModel.scoreOf(model.rows().get(0)));
    assertThat(score.getRequest().getEnriched().getLineage().getScoredAtMs())
        .isEqualTo(NOW.toEpochMilli());
    assertThat(score.getRequest().getEnriched().getLineage().getEnrichedAtMs())
        .isEqualTo(ENRICHED_AT_MS);
    assertThat(score.getRequest().getEnriched().getLineage().getRoutedAtMs())
        .isEqualTo(ROUTED_AT_MS);
    assertThat(score.getRequest().getArm()).isEqualTo(request.getArm());
    assertThat(score.getRequest().getRoutingVersion()).isEqualTo(request.getRoutingVersion());
    assertThat(score.getRequest().getEnriched().getTransaction())
        .isEqualTo(request.getEnriched().getTransaction());
  }

  @Test
  void rejectsAModelOfAnotherFeatureSpecVersionNamingLocationAndBothSpecs() {
    // Given
    FakeModel v1 = new FakeModel(FakeModel.manifest("v1", FeatureSpec.NAMES));

    // When / Then
    assertThatThrownBy(() -> new ScoreStage(config("champion"), v1, CLOCK))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("userConfig.modelLocation: model fraud v7")
        .hasMessageContaining("takes feature spec v1 " + FeatureSpec.NAMES)
        .hasMessageContaining(
            "but enrich computes " + FeatureSpec.VERSION + " " + FeatureSpec.NAMES);
  }

  @Test
  void rejectsAModelOfOtherFeatureNamesNamingLocationAndBothSpecs() {
    // Given: a model that takes the features in another order, one of them renamed
    List<String> names = new ArrayList<>(FeatureSpec.NAMES);
    names.set(0, "amount");
    Collections.swap(names, 4, 5);
    FakeModel other = new FakeModel(FakeModel.manifest(FeatureSpec.VERSION, names));

    // When / Then
    assertThatThrownBy(() -> new ScoreStage(config("champion"), other, CLOCK))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("userConfig.modelLocation")
        .hasMessageContaining("takes feature spec " + FeatureSpec.VERSION + " " + names)
        .hasMessageContaining(
            "but enrich computes " + FeatureSpec.VERSION + " " + FeatureSpec.NAMES);
  }

  static Stream<Arguments> invalidRequests() {
    return Stream.of(
        row(
            "request for another slot",
            r -> r.setModelSlot("challenger"),
            "model_slot",
            "'challenger'"),
        row(
            "features of another spec version",
            r -> {
              r.getEnrichedBuilder().setFeatureSpecVersion("v1");
              return r;
            },
            "enriched.feature_spec_version",
            "'v1'"),
        row(
            "features missing",
            r -> {
              r.getEnrichedBuilder().clearFeatures();
              return r;
            },
            "enriched.features",
            "'0 features'"),
        row(
            "one feature too many",
            r -> {
              r.getEnrichedBuilder().addFeatures(Feature.newBuilder().setName("extra"));
              return r;
            },
            "enriched.features",
            "'21 features'"),
        row(
            "feature of a wrong name",
            r -> {
              r.getEnrichedBuilder().getFeaturesBuilder(2).setName("txn_count");
              return r;
            },
            "enriched.features[2].name",
            "'txn_count'"),
        row(
            "NaN feature",
            r -> {
              r.getEnrichedBuilder().getFeaturesBuilder(0).setValue(Double.NaN);
              return r;
            },
            "enriched.features.amount_log",
            "NaN"),
        row(
            "infinite feature",
            r -> {
              r.getEnrichedBuilder().getFeaturesBuilder(1).setValue(Double.POSITIVE_INFINITY);
              return r;
            },
            "enriched.features.amount_to_card_mean",
            "Infinity"));
  }

  private static Arguments row(
      String problem, UnaryOperator<ScoringRequest.Builder> change, String field, String value) {
    return arguments(problem, change, field, value);
  }

  @ParameterizedTest(name = "{0} is rejected naming {2} = {3}")
  @MethodSource("invalidRequests")
  void rejectsRequestNamingFieldAndValue(
      String problem, UnaryOperator<ScoringRequest.Builder> change, String field, String value) {
    // Given
    ScoreStage stage = stage();
    ScoringRequest request = change.apply(scoringRequest()).build();

    // When
    InvalidRecordException error =
        catchThrowableOfType(InvalidRecordException.class, () -> stage.score(request));

    // Then
    assertThat(error).as(problem).isNotNull();
    assertThat(error.field()).isEqualTo(field);
    assertThat(error.value()).isEqualTo(value);
    assertThat(error.getMessage()).startsWith(field + " ").endsWith(", was " + value);
    assertThat(model.rows()).as("the model is not asked").isEmpty();
  }

  @Test
  void scoresABatchWithOneModelCallInOrder() {
    // Given three requests with different amounts
    ScoreStage stage = stage();
    List<ScoreStage.Prepared> batch = new java.util.ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      ScoringRequest.Builder request = scoringRequest();
      request.getEnrichedBuilder().getFeaturesBuilder(0).setValue(i);
      batch.add(stage.prepare(request.build()));
    }

    // When
    List<Score> scores = stage.scoreAll(batch);

    // Then the model saw the three rows of one call, and each score belongs to its request
    assertThat(model.rows()).hasSize(3);
    assertThat(scores)
        .extracting(Score::getScore)
        .containsExactly((double) 0.1f, (double) 0.2f, (double) 0.3f);
    assertThat(scores).extracting(Score::getFallback).containsOnly(false);
    for (int i = 0; i < 3; i++) {
      assertThat(scores.get(i).getRequest().getEnriched().getTransaction())
          .isEqualTo(batch.get(i).request().getEnriched().getTransaction());
    }
  }

  @Test
  void aFailingModelIsReplacedByTheFallbackRulesAndTheScoreSaysSo() {
    // Given a model that always fails
    Model broken =
        new Model() {
          @Override
          public ModelManifest manifest() {
            return model.manifest();
          }

          @Override
          public float[] score(float[] rows, int count) {
            throw new IllegalStateException("model crashed");
          }

          @Override
          public void close() {}
        };
    ScoreStage stage = new ScoreStage(config("champion"), broken, CLOCK);
    ScoringRequest request = scoringRequest().build();

    // When
    Score score = stage.score(request);

    // Then
    float[] row = stage.prepare(request).row();
    assertThat(score.getFallback()).isTrue();
    assertThat(score.getModelVersion()).isEqualTo(ScoreStage.FALLBACK_VERSION);
    assertThat(score.getScore()).isEqualTo(FallbackRules.score(row));
  }

  @Test
  void aSwapScoresLaterBatchesWithTheNewVersionAndHandsBackTheOldModel() {
    // Given
    ScoreStage stage = new ScoreStage(config("champion"), FakeModel.ofVersion("v1"), CLOCK);
    Score before = stage.score(scoringRequest().build());
    FakeModel v2 = FakeModel.ofVersion("v2");

    // When
    Model old = stage.swap(v2);
    Score after = stage.score(scoringRequest().build());

    // Then
    assertThat(before.getModelVersion()).isEqualTo("v1");
    assertThat(old.manifest().version()).isEqualTo("v1");
    assertThat(after.getModelVersion()).isEqualTo("v2");
    assertThat(v2.batchSizes()).containsExactly(1);
    assertThat(stage.model()).isSameAs(v2);
  }

  @Test
  void aSwappedInModelGetsAFreshClosedBreaker() {
    // Given: a model that fails every call, until its breaker opens
    ScoreStage stage = new ScoreStage(config("champion"), failing("v1"), CLOCK);
    List<String> transitions = new ArrayList<>();
    stage.onBreakerTransition(transitions::add);
    for (int i = 0; i < 30 && stage.guarded().state() != CircuitBreaker.State.OPEN; i++) {
      stage.score(scoringRequest().build());
    }
    assertThat(stage.guarded().state()).isEqualTo(CircuitBreaker.State.OPEN);

    // When
    stage.swap(FakeModel.ofVersion("v2"));
    Score score = stage.score(scoringRequest().build());

    // Then
    assertThat(transitions).containsExactly("v1: CLOSED -> OPEN");
    assertThat(stage.guarded().state()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(score.getFallback()).isFalse();
    assertThat(score.getModelVersion()).isEqualTo("v2");
  }

  @Test
  void aSwapRefusesAModelOfAnotherFeatureSpecAndTheCurrentOneKeepsServing() {
    // Given
    ScoreStage stage = new ScoreStage(config("champion"), FakeModel.ofVersion("v1"), CLOCK);
    FakeModel otherSpec = new FakeModel(FakeModel.manifest("v1", FeatureSpec.NAMES));

    // When / Then
    assertThatThrownBy(() -> stage.swap(otherSpec))
        .isInstanceOf(ModelRefusedException.class)
        .hasMessageContaining("takes feature spec v1")
        .hasMessageContaining("but enrich computes " + FeatureSpec.VERSION);
    assertThat(stage.score(scoringRequest().build()).getModelVersion()).isEqualTo("v1");
  }

  @Test
  void aSwapWaitsForTheBatchBeingScoredWhichTheOldVersionFinishes() throws Exception {
    // Given: v1 is in the middle of scoring a batch
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    FakeModel v1 =
        new FakeModel(FakeModel.ofVersion("v1").manifest()) {
          @Override
          public float[] score(float[] batch, int count) {
            inside.countDown();
            await(release);
            return super.score(batch, count);
          }
        };
    ScoreStage stage = new ScoreStage(config("champion"), v1, CLOCK);
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      Future<Score> batch = threads.submit(() -> stage.score(scoringRequest().build()));
      assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();

      // When: v2 is swapped in while the batch runs
      AtomicReference<Thread> swapper = new AtomicReference<>();
      Future<Model> swap =
          threads.submit(
              () -> {
                swapper.set(Thread.currentThread());
                return stage.swap(FakeModel.ofVersion("v2"));
              });
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> swapper.get() != null && swapper.get().getState() == Thread.State.WAITING);

      // Then: the swap waits for the batch, which v1 scores; the next batch is v2's
      assertThat(swap).isNotDone();
      release.countDown();
      assertThat(batch.get(10, TimeUnit.SECONDS).getModelVersion()).isEqualTo("v1");
      assertThat(swap.get(10, TimeUnit.SECONDS)).isSameAs(v1);
      assertThat(stage.score(scoringRequest().build()).getModelVersion()).isEqualTo("v2");
    } finally {
      release.countDown();
      threads.shutdownNow();
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Model failing(String version) {
    return new FakeModel(FakeModel.ofVersion(version).manifest()) {
      @Override
      public float[] score(float[] batch, int count) {
        throw new IllegalStateException("model down");
      }
    };
  }
}
