package io.decisionflow.stages.enrich;

import io.decisionflow.schemas.reference.MerchantRisk;
import io.decisionflow.stages.InvalidRecordException;

/**
 * Checks a {@link MerchantRisk} row before it enters a merchant table: the enrich function ignores
 * a row that fails (with a log line naming the field and value), the loader refuses it.
 */
public final class MerchantRiskValidator {

  private MerchantRiskValidator() {}

  /**
   * Returns {@code row} if it can enter a merchant table.
   *
   * @throws InvalidRecordException naming the first field at fault and its value, e.g. {@code risk
   *     must be in [0, 1], was 1.7}
   */
  public static MerchantRisk validate(MerchantRisk row) {
    requireMerchantId(row.getMerchantId());
    requireRisk(row.getRisk());
    return row;
  }

  static void requireMerchantId(String merchantId) {
    if (merchantId == null || merchantId.isBlank()) {
      throw new InvalidRecordException("merchant_id", merchantId, "is required");
    }
  }

  static void requireRisk(double risk) {
    // Written so that NaN fails too.
    if (!(risk >= 0.0 && risk <= 1.0)) {
      throw new InvalidRecordException("risk", risk, "must be in [0, 1]");
    }
  }
}
