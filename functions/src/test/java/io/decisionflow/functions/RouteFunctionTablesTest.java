package io.decisionflow.functions;

import static io.decisionflow.stages.Fixtures.enriched;
import static io.decisionflow.stages.Fixtures.transaction;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.schemas.control.RoutingArm;
import io.decisionflow.schemas.control.RoutingStatus;
import io.decisionflow.schemas.control.RoutingTable;
import io.decisionflow.schemas.control.ShadowArm;
import io.decisionflow.stages.ConfigException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The route function follows the unit's routing table: applies good tables live, refuses bad. */
class RouteFunctionTablesTest {

  private static final String NS = "persistent://payments/fraud/";
  private static final String STATUS = NS + "routing-status";
  private static final Map<String, Object> CONFIG =
      Map.of(
          "arms",
          List.of(
              Map.of("name", "champion", "weight", 70), Map.of("name", "challenger", "weight", 30)),
          "routingVersion",
          "static-1",
          "slots",
          List.of("champion", "challenger"));

  /** Tables announced on the topic: the newest at start, then those pushed by the test. */
  static final class FakeTables implements RouteFunction.TableSource {
    private final List<RoutingTable> atStart;
    private Consumer<RoutingTable> follower;
    boolean closed;

    FakeTables(RoutingTable... atStart) {
      this.atStart = List.of(atStart);
    }

    @Override
    public List<RoutingTable> announced() {
      return atStart;
    }

    @Override
    public void follow(Consumer<RoutingTable> onTable) {
      follower = onTable;
    }

    void announce(RoutingTable table) {
      follower.accept(table);
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  private FakeContext context;
  private FakeTables tables;
  private RouteFunction route;

  private void start(Map<String, Object> config, RoutingTable... announcedBefore) throws Exception {
    context = new FakeContext(config).withFunction("route", List.of(NS + "x"), null);
    tables = new FakeTables(announcedBefore);
    route = new RouteFunction((ctx, topic) -> tables);
    route.initialize(context);
  }

  private static RoutingTable table(String version, int champion, int challenger) {
    return RoutingTable.newBuilder()
        .setVersion(version)
        .addArms(arm("champion", "champion", champion))
        .addArms(arm("challenger", "challenger", challenger))
        .build();
  }

  private static RoutingArm arm(String name, String slot, int weight) {
    return RoutingArm.newBuilder().setName(name).setModelSlot(slot).setWeight(weight).build();
  }

  private List<ScoringRequest> routeCard(String card) throws Exception {
    byte[] input = enriched(transaction().setCardId(card).build()).build().toByteArray();
    int before = context.outputs().size();
    route.process(input, context).join();
    return context.outputs().subList(before, context.outputs().size()).stream()
        .filter(o -> o.topic().startsWith(NS + "scoring-"))
        .map(o -> (ScoringRequest) o.value())
        .toList();
  }

  private List<RoutingStatus> statuses() {
    return context.outputsTo(STATUS, RoutingStatus.class);
  }

  @Test
  void routesByTheConfiguredTableUntilOneIsAnnouncedAndSaysSo() throws Exception {
    // Given nothing announced
    start(CONFIG);

    // When / Then
    assertThat(routeCard("card-1").get(0).getRoutingVersion()).isEqualTo("static-1");
    assertThat(statuses()).hasSize(1);
    RoutingStatus status = statuses().get(0);
    assertThat(status.getEvent()).isEqualTo(RoutingStatus.Event.APPLIED);
    assertThat(status.getAppliedVersion()).isEqualTo("static-1");
    assertThat(status.getSource()).isEqualTo("userConfig");
    assertThat(status.getFunction()).isEqualTo("payments/fraud/route");
    assertThat(context.outputs().get(0).key()).isEqualTo("route/0");
  }

  @Test
  void theAnnouncedTableWinsOverTheConfiguredOneAtStart() throws Exception {
    // Given a table announced before the function starts: every card to challenger
    start(CONFIG, table("t-9", 0, 100));

    // When / Then
    for (int i = 0; i < 50; i++) {
      ScoringRequest request = routeCard("card-" + i).get(0);
      assertThat(request.getModelSlot()).isEqualTo("challenger");
      assertThat(request.getRoutingVersion()).isEqualTo("t-9");
    }
    assertThat(statuses()).extracting(RoutingStatus::getAppliedVersion).containsExactly("t-9");
  }

  @Test
  void aNewTableAppliesLiveFromTheNextRecord() throws Exception {
    // Given
    start(CONFIG);
    assertThat(routeCard("card-1").get(0).getRoutingVersion()).isEqualTo("static-1");

    // When
    tables.announce(table("t-2", 100, 0));

    // Then
    ScoringRequest after = routeCard("card-1").get(0);
    assertThat(after.getRoutingVersion()).isEqualTo("t-2");
    assertThat(after.getArm()).isEqualTo("champion");
    assertThat(route.table().getVersion()).isEqualTo("t-2");
    RoutingStatus status = statuses().get(statuses().size() - 1);
    assertThat(status.getEvent()).isEqualTo(RoutingStatus.Event.APPLIED);
    assertThat(status.getRequestedVersion()).isEqualTo("t-2");
    assertThat(status.getSource()).isEqualTo("routing");
  }

  @Test
  void badTablesAreRefusedWithTheReasonAndTheCurrentTableStays() throws Exception {
    // Given
    start(CONFIG);
    tables.announce(table("t-2", 60, 40));

    // When: weights of 90, an unknown slot, no deciding arm, a known version with other arms
    tables.announce(table("t-3", 60, 30));
    tables.announce(
        RoutingTable.newBuilder()
            .setVersion("t-4")
            .addArms(arm("champion", "champion", 50))
            .addArms(arm("v9", "fraud-v9", 50))
            .build());
    tables.announce(RoutingTable.newBuilder().setVersion("t-5").build());
    tables.announce(table("t-2", 50, 50));

    // Then each is refused, saying why, and t-2 still routes
    List<RoutingStatus> refused =
        statuses().stream().filter(s -> s.getEvent() == RoutingStatus.Event.REFUSED).toList();
    assertThat(refused)
        .extracting(RoutingStatus::getRequestedVersion)
        .containsExactly("t-3", "t-4", "t-5", "t-2");
    assertThat(refused).allSatisfy(s -> assertThat(s.getAppliedVersion()).isEqualTo("t-2"));
    assertThat(refused.get(0).getReason()).isEqualTo("arms[*].weight: must add up to 100, was 90");
    assertThat(refused.get(1).getReason())
        .isEqualTo(
            "arms[1].model_slot: unknown slot 'fraud-v9'; the pipeline serves challenger,"
                + " champion");
    assertThat(refused.get(2).getReason())
        .isEqualTo("arms: must list at least one deciding arm, was none");
    assertThat(refused.get(3).getReason()).contains("'t-2' is already applied with other arms");
    assertThat(route.table().getVersion()).isEqualTo("t-2");
    assertThat(routeCard("card-1").get(0).getRoutingVersion()).isEqualTo("t-2");
  }

  @Test
  void aBadTableAnnouncedBeforeStartIsRefusedAndTheConfiguredOneRoutes() throws Exception {
    // When
    start(CONFIG, table("t-bad", 10, 10));

    // Then
    assertThat(route.table().getVersion()).isEqualTo("static-1");
    assertThat(statuses()).hasSize(1);
    assertThat(statuses().get(0).getEvent()).isEqualTo(RoutingStatus.Event.REFUSED);
    assertThat(statuses().get(0).getAppliedVersion()).isEqualTo("static-1");
  }

  @Test
  void atStartTheNewestValidTableAppliesWhenTheNewestAnnouncedIsRefused() throws Exception {
    // When the topic holds a good table, then a bad one
    start(CONFIG, table("t-1", 50, 50), table("t-2", 80, 30));

    // Then t-1 routes, and the one status says t-2 was refused
    assertThat(route.table().getVersion()).isEqualTo("t-1");
    assertThat(statuses()).hasSize(1);
    assertThat(statuses().get(0).getEvent()).isEqualTo(RoutingStatus.Event.REFUSED);
    assertThat(statuses().get(0).getRequestedVersion()).isEqualTo("t-2");
    assertThat(statuses().get(0).getAppliedVersion()).isEqualTo("t-1");
  }

  @Test
  void shadowCopiesGoToTheShadowSlotMarkedShadowAndTheInputIsDoneOnceAllAreStored()
      throws Exception {
    // Given every card mirrored to a shadow arm on challenger, champion deciding
    start(CONFIG);
    tables.announce(
        table("t-s", 100, 0).toBuilder()
            .addShadows(
                ShadowArm.newBuilder()
                    .setName("candidate")
                    .setModelSlot("challenger")
                    .setMirrorPercent(100))
            .build());

    // When
    byte[] input = enriched(transaction().setCardId("card-7").build()).build().toByteArray();
    CompletableFuture<Void> done = route.process(input, context);

    // Then
    assertThat(done).isCompleted();
    ScoringRequest deciding =
        context.outputsTo(NS + "scoring-champion", ScoringRequest.class).get(0);
    ScoringRequest copy = context.outputsTo(NS + "scoring-challenger", ScoringRequest.class).get(0);
    assertThat(deciding.getShadow()).isFalse();
    assertThat(copy.getShadow()).isTrue();
    assertThat(copy.getArm()).isEqualTo("candidate");
    assertThat(copy.getEnriched()).isEqualTo(deciding.getEnriched());
  }

  @Test
  void knownSlotsDefaultToTheConfiguredTablesSoOtherSlotsAreRefused() throws Exception {
    // Given no `slots`: the configured table's slots are the known ones
    start(Map.of("arms", List.of(Map.of("name", "champion", "weight", 100))));

    // When
    tables.announce(table("t-2", 50, 50));

    // Then
    assertThat(statuses().get(1).getReason()).contains("unknown slot 'challenger'");
    assertThat(route.table().getVersion()).isEqualTo("static-1");
  }

  @Test
  void aBadConfiguredTableFailsAtInitialize() {
    FakeContext bad =
        new FakeContext(
            Map.of(
                "arms",
                List.of(Map.of("name", "champion", "weight", 100)),
                "slots",
                List.of("challenger")));
    assertThatThrownBy(() -> new RouteFunction((ctx, topic) -> new FakeTables()).initialize(bad))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("userConfig.arms[0].slot");
  }

  @Test
  void closingTheFunctionClosesItsTableSource() throws Exception {
    start(CONFIG);

    route.close();

    assertThat(tables.closed).isTrue();
  }
}
