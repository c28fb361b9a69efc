package io.decisionflow.connectors.jdbc;

import io.decisionflow.schemas.Decision;
import java.util.List;

/** Where decisions are written; one call is one transaction: all rows or none. */
interface DecisionStore extends AutoCloseable {

  /**
   * Writes {@code decisions} (one row per transaction id) and commits.
   *
   * @throws Exception if nothing was committed
   */
  void upsert(List<Decision> decisions) throws Exception;

  @Override
  void close();
}
