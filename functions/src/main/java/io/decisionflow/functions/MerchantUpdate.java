package io.decisionflow.functions;

import io.decisionflow.schemas.reference.MerchantRisk;

/**
 * One record of a unit's {@code merchants} topic: a merchant's new row, or its deletion.
 *
 * @param merchantId the merchant, the record's key
 * @param row the merchant's row, checked by {@link
 *     io.decisionflow.stages.enrich.MerchantRiskValidator}; null for a tombstone, which deletes the
 *     merchant
 */
record MerchantUpdate(String merchantId, MerchantRisk row) {

  static MerchantUpdate delete(String merchantId) {
    return new MerchantUpdate(merchantId, null);
  }

  boolean deletes() {
    return row == null;
  }
}
