package io.decisionflow.connectors.jdbc;

import io.decisionflow.schemas.Decision;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pulsar.functions.api.Record;

/** A record that counts its acknowledgements and failures. */
final class FakeRecord implements Record<Decision> {

  final AtomicInteger acks = new AtomicInteger();
  final AtomicInteger fails = new AtomicInteger();
  private final Decision value;

  FakeRecord(String transactionId) {
    this.value = Decision.newBuilder().setTransactionId(transactionId).setScore(0.5).build();
  }

  @Override
  public Decision getValue() {
    return value;
  }

  @Override
  public void ack() {
    acks.incrementAndGet();
  }

  @Override
  public void fail() {
    fails.incrementAndGet();
  }
}
