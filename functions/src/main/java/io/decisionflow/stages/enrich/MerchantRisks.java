package io.decisionflow.stages.enrich;

import java.util.OptionalDouble;

/**
 * The merchant reference table as the enrich stage sees it when it processes a record: the risk of
 * each known merchant. Online it follows the business unit's compacted {@code merchants} topic and
 * changes while records are processed ({@link InMemoryMerchantRisks}, updated by the enrich
 * function); offline tools (training, parity checks) pass a fixed table.
 */
@FunctionalInterface
public interface MerchantRisks {

  /** A table without merchants: every merchant is unknown. */
  MerchantRisks NONE = merchantId -> OptionalDouble.empty();

  /**
   * The merchant's risk, in [0, 1].
   *
   * @return empty if the merchant is not in the table
   */
  OptionalDouble risk(String merchantId);
}
