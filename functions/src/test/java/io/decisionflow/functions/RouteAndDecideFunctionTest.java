package io.decisionflow.functions;

import static io.decisionflow.stages.Fixtures.enriched;
import static io.decisionflow.stages.Fixtures.score;
import static org.assertj.core.api.Assertions.assertThat;

import io.decisionflow.schemas.DeadLetter;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.ScoringRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RouteAndDecideFunctionTest {

  private static final String NS = "persistent://payments/fraud/";
  private static final Map<String, Object> ROUTE_CONFIG =
      Map.of("arms", List.of(Map.of("name", "champion", "weight", 100)));
  private static final byte[] GARBAGE = "not a protobuf record".getBytes(StandardCharsets.UTF_8);

  @Test
  void routePublishesTheRequestToTheScoringTopicOfTheCardsArm() throws Exception {
    // Given
    byte[] input = enriched().build().toByteArray();
    FakeContext context = context("route", ROUTE_CONFIG, NS + "transactions-enriched", input);
    RouteFunction route =
        new RouteFunction((ctx, topic) -> new RouteFunctionTablesTest.FakeTables());
    route.initialize(context);

    // When
    route.process(input, context).join();

    // Then
    List<ScoringRequest> routed = context.outputsTo(NS + "scoring-champion", ScoringRequest.class);
    assertThat(routed).hasSize(1);
    assertThat(routed.get(0).getArm()).isEqualTo("champion");
    assertThat(routed.get(0).getEnriched().getTransaction())
        .isEqualTo(enriched().build().getTransaction());
    // sent at once (nothing else on its way), not left for the batching timer
    assertThat(context.flushes()).isEqualTo(1);
    assertThat(
            route
                .metrics()
                .value("decisionflow_route_records_total", "arm", "champion", "kind", "deciding"))
        .isEqualTo(1.0);
    assertThat(route.metrics().value("decisionflow_records_out_total", "stage", "route"))
        .isEqualTo(1.0);
    assertThat(route.metrics().value("decisionflow_event_latency_seconds_count", "stage", "route"))
        .isEqualTo(1.0);
  }

  @Test
  void routeDeadLettersARecordThatDoesNotParse() throws Exception {
    // Given
    FakeContext context = context("route", ROUTE_CONFIG, NS + "transactions-enriched", GARBAGE);
    RouteFunction route =
        new RouteFunction((ctx, topic) -> new RouteFunctionTablesTest.FakeTables());
    route.initialize(context);

    // When
    route.process(GARBAGE, context).join();

    // Then
    assertDeadLetter(context, "route", "EnrichedTransaction");
    assertThat(route.metrics().value("decisionflow_records_in_total", "stage", "route"))
        .isEqualTo(1.0);
    assertThat(route.metrics().value("decisionflow_records_failed_total", "stage", "route"))
        .isEqualTo(1.0);
    assertThat(route.metrics().value("decisionflow_records_out_total", "stage", "route"))
        .isEqualTo(0.0);
  }

  @Test
  void decideCopiesTheDecisionToTheTopicOfItsOutcome() throws Exception {
    // Given a score of 0.25 against a threshold of 0.2
    byte[] input = score().build().toByteArray();
    FakeContext context = context("decide", Map.of("threshold", 0.2), NS + "scores", input);
    DecideFunction decide = new DecideFunction();
    decide.initialize(context);

    // When
    Decision returned = decide.process(input, context).join();

    // Then the decision is stored on decisions and on fraud-alerts by the stage's own producers,
    // keyed by card, with the transaction's event time; nothing is left for the runtime
    assertThat(returned).isNull();
    List<Decision> decided = context.outputsTo(NS + "decisions", Decision.class);
    assertThat(decided).hasSize(1);
    Decision decision = decided.get(0);
    assertThat(decision.getOutcome()).isEqualTo("ALERT");
    assertThat(context.outputsTo(NS + "fraud-alerts", Decision.class)).containsExactly(decision);
    assertThat(context.outputsTo(NS + "transactions-ok", Decision.class)).isEmpty();
    FakeContext.Output stored =
        context.outputs().stream()
            .filter(o -> o.topic().equals(NS + "decisions"))
            .findFirst()
            .orElseThrow();
    assertThat(stored.key()).isEqualTo(decision.getCardId());
    assertThat(stored.eventTime()).isEqualTo(decision.getEventTimeMs());
    // both copies sent at once (nothing else on their way), not left for the batching timer
    assertThat(context.flushes()).isEqualTo(2);
    assertThat(
            decide
                .metrics()
                .value(
                    "decisionflow_decisions_total",
                    "arm",
                    decision.getArm(),
                    "model_version",
                    decision.getModelVersion(),
                    "decision",
                    "alert"))
        .isEqualTo(1.0);
    assertThat(
            decide.metrics().value("decisionflow_event_latency_seconds_count", "stage", "decide"))
        .isEqualTo(1.0);
  }

  @Test
  void withANegativeBatchingDelayDecideLeavesTheDecisionToTheRuntime() throws Exception {
    // Given decide set to publish through the function runtime's producers
    byte[] input = score().build().toByteArray();
    FakeContext context =
        context(
            "decide",
            Map.of("threshold", 0.2, "outputBatchingDelayMicros", -1),
            NS + "scores",
            input);
    DecideFunction decide = new DecideFunction();
    decide.initialize(context);

    // When
    Decision decision = decide.process(input, context).join();

    // Then the runtime gets the decision to publish, and only the copy is sent
    assertThat(decision.getOutcome()).isEqualTo("ALERT");
    assertThat(context.outputsTo(NS + "decisions", Decision.class)).isEmpty();
    assertThat(context.outputsTo(NS + "fraud-alerts", Decision.class)).containsExactly(decision);
  }

  @Test
  void decideRetriesFromADelayedCopyWhenItsCopyCannotBeSentThenDeadLetters() throws Exception {
    // Given fraud-alerts refuses every send, and 3 attempts at most, 200 ms apart at first
    byte[] input = score().build().toByteArray();
    Map<String, Object> config = Map.of("threshold", 0.2, "maxAttempts", 3, "retryDelayMs", 200);
    FakeContext context = context("decide", config, NS + "scores", input);
    context.failSendsTo(NS + "fraud-alerts");
    DecideFunction decide = new DecideFunction();
    decide.initialize(context);

    // When the first attempt fails: no decision now, a copy for attempt 2 after 200 ms
    assertThat(decide.process(input, context).join()).isNull();
    FakeContext.Output copy = retryCopy(context);
    assertThat((byte[]) copy.value()).isEqualTo(input);
    assertThat(copy.properties()).containsEntry(Retries.ATTEMPT, "2");
    assertThat(copy.deliverAfterMs()).isEqualTo(200L);
    assertThat(decide.metrics().value("decisionflow_records_retried_total", "stage", "decide"))
        .isEqualTo(1.0);
    assertThat(decide.metrics().value("decisionflow_records_out_total", "stage", "decide"))
        .isEqualTo(0.0);

    // When the second attempt (the copy) fails: attempt 3 after 400 ms
    FakeContext second = context("decide", config, NS + "scores", input);
    ((FakeContext.FakeRecord<?>) second.getCurrentRecord()).withProperty(Retries.ATTEMPT, "2");
    second.failSendsTo(NS + "fraud-alerts");
    decide.initialize(second);
    decide.process(input, second).join();
    assertThat(retryCopy(second).properties()).containsEntry(Retries.ATTEMPT, "3");
    assertThat(retryCopy(second).deliverAfterMs()).isEqualTo(400L);

    // When the third and last fails: a dead letter with 3 attempts and the cause
    FakeContext third = context("decide", config, NS + "scores", input);
    ((FakeContext.FakeRecord<?>) third.getCurrentRecord()).withProperty(Retries.ATTEMPT, "3");
    third.failSendsTo(NS + "fraud-alerts");
    decide.initialize(third);
    decide.process(input, third).join();
    assertThat(third.outputs()).noneMatch(o -> o.topic().equals(NS + "scores"));
    DeadLetter letter = third.outputsTo(NS + "dead-letters", DeadLetter.class).get(0);
    assertThat(letter.getStage()).isEqualTo("decide");
    assertThat(letter.getAttempts()).isEqualTo(3);
    assertThat(
            decide
                .metrics()
                .value(
                    "decisionflow_dead_letters_total",
                    "stage",
                    "decide",
                    "reason",
                    "TimeoutException"))
        .isEqualTo(1.0);
    assertThat(letter.getErrorClass())
        .isEqualTo("org.apache.pulsar.client.api.PulsarClientException$TimeoutException");
    assertThat(letter.getReason())
        .isEqualTo(
            "decide failed 3 times, last:"
                + " org.apache.pulsar.client.api.PulsarClientException$TimeoutException: send to "
                + NS
                + "fraud-alerts timed out");
  }

  @Test
  void decideRetriesWhenTheProducerOfItsCopyCannotBeCreated() throws Exception {
    // Given fraud-alerts does not exist (the runtime throws when it creates the producer)
    byte[] input = score().build().toByteArray();
    FakeContext context = context("decide", Map.of("threshold", 0.2), NS + "scores", input);
    context.withoutTopic(NS + "fraud-alerts");
    DecideFunction decide = new DecideFunction();
    decide.initialize(context);

    // When
    Decision decision = decide.process(input, context).join();

    // Then no decision now, and a copy for the next attempt
    assertThat(decision).isNull();
    assertThat(context.outputs()).hasSize(1);
    assertThat(context.outputs().get(0).topic()).isEqualTo(NS + "scores");
    assertThat(context.outputs().get(0).properties()).containsEntry(Retries.ATTEMPT, "2");
  }

  @Test
  void routeRetriesFromADelayedCopyWhenARequestCannotBeSent() throws Exception {
    byte[] input = enriched().build().toByteArray();
    FakeContext context = context("route", ROUTE_CONFIG, NS + "transactions-enriched", input);
    context.failSendsTo(NS + "scoring-champion").failSendsTo(NS + "scoring-challenger");
    RouteFunction route =
        new RouteFunction((ctx, topic) -> new RouteFunctionTablesTest.FakeTables());
    route.initialize(context);

    route.process(input, context).join();

    List<FakeContext.Output> copies =
        context.outputs().stream()
            .filter(o -> o.topic().equals(NS + "transactions-enriched"))
            .toList();
    assertThat(copies).hasSize(1);
    assertThat(copies.get(0).properties()).containsEntry(Retries.ATTEMPT, "2");
    assertThat(copies.get(0).deliverAfterMs()).isEqualTo(1000L);
  }

  @Test
  void decideDeadLettersARecordThatDoesNotParse() throws Exception {
    // Given
    FakeContext context = context("decide", Map.of("threshold", 0.5), NS + "scores", GARBAGE);
    DecideFunction decide = new DecideFunction();
    decide.initialize(context);

    // When
    Decision decision = decide.process(GARBAGE, context).join();

    // Then
    assertThat(decision).isNull();
    assertDeadLetter(context, "decide", "Score");
  }

  @Test
  void decideSkipsTheScoreOfAShadowCopy() throws Exception {
    // Given a shadow copy's score that reached `scores`
    Score shadow = score().setRequest(score().getRequest().toBuilder().setShadow(true)).build();
    byte[] input = shadow.toByteArray();
    FakeContext context = context("decide", Map.of("threshold", 0.2), NS + "scores", input);
    DecideFunction decide = new DecideFunction();
    decide.initialize(context);

    // When
    Decision decision = decide.process(input, context).join();

    // Then
    assertThat(decision).isNull();
    assertThat(context.outputs()).isEmpty();
  }

  @Test
  void shadowScoresGoToShadowScoresAndNowhereElse() {
    // Given
    FakeContext context = new FakeContext(Map.of());
    ShadowScores shadowScores = new ShadowScores(context, new Outputs(context, 1000));
    Score deciding = score().build();
    Score shadow = score().setRequest(score().getRequest().toBuilder().setShadow(true)).build();

    // When
    Score passed = shadowScores.divert(deciding).join();
    Score diverted = shadowScores.divert(shadow).join();

    // Then
    assertThat(passed).isSameAs(deciding);
    assertThat(diverted).isNull();
    assertThat(context.outputsTo(NS + "shadow-scores", Score.class)).containsExactly(shadow);
    assertThat(context.outputs()).hasSize(1);
    assertThat(context.outputs().get(0).key()).isEqualTo("card-1");
  }

  private static FakeContext context(
      String name, Map<String, Object> config, String input, byte[] value) {
    return new FakeContext(config)
        .withFunction(name, List.of(input), name.equals("decide") ? NS + "decisions" : null)
        .withCurrentRecord(FakeContext.input(input, "card-1", value));
  }

  /** The one copy of the input sent back for a later attempt. */
  private static FakeContext.Output retryCopy(FakeContext context) {
    List<FakeContext.Output> copies =
        context.outputs().stream().filter(o -> o.topic().equals(NS + "scores")).toList();
    assertThat(copies).hasSize(1);
    return copies.get(0);
  }

  private static void assertDeadLetter(FakeContext context, String stage, String type) {
    List<DeadLetter> letters = context.outputsTo(NS + "dead-letters", DeadLetter.class);
    assertThat(letters).hasSize(1);
    DeadLetter letter = letters.get(0);
    assertThat(letter.getStage()).isEqualTo(stage);
    assertThat(letter.getField()).isEqualTo("record");
    assertThat(letter.getReason()).startsWith("record is not a " + type + ": ");
    assertThat(letter.getOriginal().toByteArray()).isEqualTo(GARBAGE);
    assertThat(letter.getKey()).isEqualTo("card-1");
  }
}
