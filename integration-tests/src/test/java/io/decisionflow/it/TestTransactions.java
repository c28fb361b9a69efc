package io.decisionflow.it;

import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.Transaction;
import java.time.Instant;
import java.util.UUID;

/** Plain transactions for tests that need valid records, not realistic ones. */
final class TestTransactions {

  /** 10:00 UTC: not night, so no night-time risk. */
  static final long DAYTIME = Instant.parse("2026-06-01T10:00:00Z").toEpochMilli();

  private TestTransactions() {}

  /** An ordinary 25 EUR POS purchase of {@code card} in DE, in the daytime, with a fresh id. */
  static Transaction ordinary(String card) {
    return Transaction.newBuilder()
        .setTransactionId("it-tx-" + UUID.randomUUID())
        .setCardId(card)
        .setMerchantId("merchant-7")
        .setAmount(25.0)
        .setCurrency("EUR")
        .setEventTimeMs(DAYTIME)
        .setChannel(Channel.POS)
        .setCountry("DE")
        .setMerchantCategory("5411")
        .build();
  }
}
