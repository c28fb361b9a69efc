package io.decisionflow.stages.enrich;

import static io.decisionflow.stages.Fixtures.transaction;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.stages.InvalidRecordException;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TransactionValidatorTest {

  static Stream<Arguments> invalidTransactions() {
    return Stream.of(
        row("blank transaction_id", t -> t.setTransactionId("  "), "transaction_id", "'  '"),
        row("empty card_id", t -> t.setCardId(""), "card_id", "<empty>"),
        row("blank merchant_id", t -> t.setMerchantId(" \t"), "merchant_id", "' \t'"),
        row("negative amount", t -> t.setAmount(-5.0), "amount", "-5.0"),
        row("NaN amount", t -> t.setAmount(Double.NaN), "amount", "NaN"),
        row("infinite amount", t -> t.setAmount(Double.POSITIVE_INFINITY), "amount", "Infinity"),
        row("lower-case currency", t -> t.setCurrency("eur"), "currency", "'eur'"),
        row("missing currency", t -> t.setCurrency(""), "currency", "<empty>"),
        row("event_time 0", t -> t.setEventTimeMs(0), "event_time_ms", "0"),
        row("negative event_time", t -> t.setEventTimeMs(-1), "event_time_ms", "-1"),
        row("channel unspecified", t -> t.setChannel(Channel.CHANNEL_UNSPECIFIED), "channel", "0"),
        row("channel unknown to this release", t -> t.setChannelValue(42), "channel", "42"),
        row("three-letter country", t -> t.setCountry("DEU"), "country", "'DEU'"),
        row("lower-case country", t -> t.setCountry("de"), "country", "'de'"));
  }

  private static Arguments row(
      String problem, UnaryOperator<Transaction.Builder> change, String field, String value) {
    return arguments(problem, change, field, value);
  }

  @ParameterizedTest(name = "{0} is rejected naming {2} = {3}")
  @MethodSource("invalidTransactions")
  void rejectsTransactionNamingFieldAndValue(
      String problem, UnaryOperator<Transaction.Builder> change, String field, String value) {
    // Given
    Transaction txn = change.apply(transaction()).build();

    // When
    InvalidRecordException error =
        catchThrowableOfType(
            InvalidRecordException.class, () -> TransactionValidator.validate(txn));

    // Then
    assertThat(error).as(problem).isNotNull();
    assertThat(error.field()).isEqualTo(field);
    assertThat(error.value()).isEqualTo(value);
    assertThat(error.getMessage()).startsWith(field + " ").endsWith(", was " + value);
  }

  @Test
  void acceptsValidTransactionOfEveryChannel() {
    for (Channel channel : new Channel[] {Channel.POS, Channel.ONLINE, Channel.ATM}) {
      // Given
      Transaction txn = transaction().setChannel(channel).build();

      // When / Then
      assertThat(TransactionValidator.validate(txn)).isSameAs(txn);
    }
  }

  @Test
  void acceptsZeroAmount() {
    // Given
    Transaction txn = transaction().setAmount(0.0).build();

    // When / Then
    assertThat(TransactionValidator.validate(txn)).isSameAs(txn);
  }

  @Test
  void namesTheFirstFieldAtFaultWhenSeveralAre() {
    // Given
    Transaction txn = transaction().setCardId("").setAmount(-1).setCountry("??").build();

    // When
    InvalidRecordException error =
        catchThrowableOfType(
            InvalidRecordException.class, () -> TransactionValidator.validate(txn));

    // Then
    assertThat(error.field()).isEqualTo("card_id");
  }
}
