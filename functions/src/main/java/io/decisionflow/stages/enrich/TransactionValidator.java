package io.decisionflow.stages.enrich;

import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.stages.InvalidRecordException;
import java.util.regex.Pattern;

/** Checks a transaction before anything is computed from it. */
public final class TransactionValidator {

  private static final Pattern CURRENCY = Pattern.compile("[A-Z]{3}");
  private static final Pattern COUNTRY = Pattern.compile("[A-Z]{2}");

  private TransactionValidator() {}

  /**
   * Returns {@code txn} if it can be processed.
   *
   * @throws InvalidRecordException naming the first field at fault and its value
   */
  public static Transaction validate(Transaction txn) {
    requireText("transaction_id", txn.getTransactionId());
    requireText("card_id", txn.getCardId());
    requireText("merchant_id", txn.getMerchantId());
    double amount = txn.getAmount();
    if (!Double.isFinite(amount)) {
      throw new InvalidRecordException("amount", amount, "must be a finite number");
    }
    if (amount < 0) {
      throw new InvalidRecordException("amount", amount, "must be >= 0");
    }
    if (!CURRENCY.matcher(txn.getCurrency()).matches()) {
      throw new InvalidRecordException(
          "currency", txn.getCurrency(), "must be an ISO 4217 code such as EUR");
    }
    if (txn.getEventTimeMs() <= 0) {
      throw new InvalidRecordException(
          "event_time_ms", txn.getEventTimeMs(), "must be epoch milliseconds > 0");
    }
    if (txn.getChannel() == Channel.CHANNEL_UNSPECIFIED
        || txn.getChannel() == Channel.UNRECOGNIZED) {
      throw new InvalidRecordException(
          "channel", txn.getChannelValue(), "must be one of POS, ONLINE, ATM");
    }
    if (!COUNTRY.matcher(txn.getCountry()).matches()) {
      throw new InvalidRecordException(
          "country", txn.getCountry(), "must be an ISO 3166-1 alpha-2 code such as DE");
    }
    return txn;
  }

  private static void requireText(String field, String value) {
    if (value.isBlank()) {
      throw new InvalidRecordException(field, value, "is required");
    }
  }
}
