package io.decisionflow.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.decisionflow.models.synthetic.TransactionGenerator;
import io.decisionflow.schemas.Transaction;
import org.junit.jupiter.api.Test;

class DecisionTallyTest {

  private static TransactionGenerator.Labelled labelled(boolean fraud) {
    return new TransactionGenerator.Labelled(Transaction.getDefaultInstance(), fraud, 0.5);
  }

  @Test
  void countsEachTransactionOnceAndScoresAlertsAgainstTheLabels() {
    GroundTruth truth = new GroundTruth();
    truth.add("t1", "c1", labelled(true));
    truth.add("t2", "c1", labelled(false));
    truth.add("t3", "c2", labelled(true));
    truth.add("t4", "c3", labelled(false));
    DecisionTally tally = new DecisionTally(truth);

    tally.add("t1", true, 1_000, 1_000_000 + 12_000); // 12 ms
    tally.add("t1", true, 1_000, 1_000_000 + 40_000); // duplicate
    tally.add("t2", true, 1_000, 1_000_000 + 20_000);
    tally.add("t3", false, 1_000, 1_000_000 + 30_000);
    tally.add("other-run", true, 1_000, 1_000_000 + 90_000_000); // not sent by this step

    DecisionTally.Result r = tally.result();
    assertThat(r.sent()).isEqualTo(4);
    assertThat(r.decided()).isEqualTo(3);
    assertThat(r.missing()).isEqualTo(1);
    assertThat(r.duplicates()).isEqualTo(1);
    assertThat(tally.complete()).isFalse();
    assertThat(r.alerts()).isEqualTo(2);
    assertThat(r.truePositives()).isEqualTo(1);
    assertThat(r.frauds()).isEqualTo(2);
    assertThat(r.precision()).isEqualTo(0.5);
    assertThat(r.recall()).isEqualTo(0.5);
    assertThat(r.latency().count()).isEqualTo(3);
    assertThat(r.latency().max()).isCloseTo(30, within(0.1));
    assertThat(r.lastDecisionMicros()).isEqualTo(1_030_000);

    tally.add("t4", false, 1_000, 1_000_000 + 5_000);
    assertThat(tally.complete()).isTrue();
    assertThat(tally.result().missing()).isZero();
    assertThat(tally.result().hops()).isEmpty();
  }

  @Test
  void splitsTheLatencyIntoTheHopsOfTheLineage() {
    GroundTruth truth = new GroundTruth();
    truth.add("t1", "c1", labelled(false));
    DecisionTally tally = new DecisionTally(truth);

    // event 1000 ms; enriched 1004, routed 1006, scored 1013, decided 1014; received 1020.5
    tally.add("t1", false, 1_000, 1_020_500, 1_004, 1_006, 1_013, 1_014);

    var hops = tally.result().hops();
    assertThat(hops.keySet()).containsExactlyElementsOf(DecisionTally.HOPS);
    assertThat(hops.get("publish->enrich").p50()).isCloseTo(4, within(0.01));
    assertThat(hops.get("enrich->route").p50()).isCloseTo(2, within(0.01));
    assertThat(hops.get("route->score").p50()).isCloseTo(7, within(0.01));
    assertThat(hops.get("score->decide").p50()).isCloseTo(1, within(0.01));
    assertThat(hops.get("decide->here").p50()).isCloseTo(6.5, within(0.01));
  }

  @Test
  void precisionAndRecallAreUndefinedWithoutAlertsOrFrauds() {
    GroundTruth truth = new GroundTruth();
    truth.add("t1", "c1", labelled(false));
    DecisionTally tally = new DecisionTally(truth);
    tally.add("t1", false, 0, 1000);

    assertThat(tally.result().precision()).isNaN();
    assertThat(tally.result().recall()).isNaN();
  }
}
