package io.decisionflow.stages.enrich;

import io.decisionflow.stages.InvalidRecordException;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A merchant reference table in memory. Thread-safe: one thread may update it (the follower of the
 * {@code merchants} topic) while others look merchants up; a lookup sees each merchant either
 * before or after an update, never half of one.
 */
public final class InMemoryMerchantRisks implements MerchantRisks {

  private final Map<String, Double> risks = new ConcurrentHashMap<>();

  /** An empty table. */
  public InMemoryMerchantRisks() {}

  /**
   * A table holding {@code risks}.
   *
   * @throws InvalidRecordException if a merchant id is blank or a risk is not in [0, 1]
   */
  public static InMemoryMerchantRisks of(Map<String, Double> risks) {
    InMemoryMerchantRisks table = new InMemoryMerchantRisks();
    risks.forEach(table::put);
    return table;
  }

  @Override
  public OptionalDouble risk(String merchantId) {
    Double risk = merchantId == null ? null : risks.get(merchantId);
    return risk == null ? OptionalDouble.empty() : OptionalDouble.of(risk);
  }

  /**
   * Sets the risk of a merchant, adding it if it is new.
   *
   * @throws InvalidRecordException if the merchant id is blank or the risk is not in [0, 1]
   */
  public void put(String merchantId, double risk) {
    MerchantRiskValidator.requireMerchantId(merchantId);
    MerchantRiskValidator.requireRisk(risk);
    risks.put(merchantId, risk);
  }

  /**
   * Removes a merchant: from now on it is unknown.
   *
   * @return whether it was in the table
   */
  public boolean remove(String merchantId) {
    return merchantId != null && risks.remove(merchantId) != null;
  }

  /** Merchants in the table. */
  public int size() {
    return risks.size();
  }

  /** A copy of the table, by merchant id. */
  public Map<String, Double> snapshot() {
    return new TreeMap<>(risks);
  }
}
