package io.decisionflow.connectors.archive;

import java.time.Duration;

/**
 * When an open batch is closed and written: once it holds {@code maxRecords} records, or its rows
 * take {@code maxBytes} bytes before compression, or its first record arrived {@code maxAge} ago.
 */
public record BatchLimits(int maxRecords, long maxBytes, Duration maxAge) {

  public BatchLimits {
    if (maxRecords < 1 || maxBytes < 1 || maxAge == null || maxAge.isNegative()) {
      throw new IllegalArgumentException(
          "batch limits must be positive, were "
              + maxRecords
              + " records, "
              + maxBytes
              + " bytes, "
              + maxAge);
    }
  }
}
