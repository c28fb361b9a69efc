package io.decisionflow.connectors.jdbc;

import io.decisionflow.metrics.InstanceMetrics;
import io.decisionflow.schemas.Decision;
import java.util.Map;
import org.apache.pulsar.functions.api.Record;
import org.apache.pulsar.io.core.Sink;
import org.apache.pulsar.io.core.SinkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decisions into PostgreSQL: each Decision of the input topic becomes the row of its transaction id
 * ({@code INSERT ... ON CONFLICT (transaction_id) DO UPDATE}), written in batches, one transaction
 * per batch, and each record is acknowledged once its batch is committed. The connections come from
 * a small pool, so a database that restarts is reconnected on the next attempt; while it is down,
 * batches fail (Pulsar delivers their records again) and attempts back off up to {@code
 * maxBackoffMs}.
 *
 * <p>Credentials: the sink's secrets {@code userName} and {@code password}, else the configs of the
 * same names.
 */
public class DecisionsJdbcSink implements Sink<Decision> {

  private static final Logger LOG = LoggerFactory.getLogger(DecisionsJdbcSink.class);

  private DecisionStore store;
  private BatchWriter writer;
  private InstanceMetrics metrics;

  @Override
  public void open(Map<String, Object> configs, SinkContext context) {
    JdbcSinkConfig config = JdbcSinkConfig.load(configs);
    String user = secret(context, "userName", config.userName);
    String password = secret(context, "password", config.password);
    metrics =
        InstanceMetrics.exported(
            context.getTenant(),
            context.getNamespace(),
            context.getSinkName(),
            context.getInstanceId());
    store =
        new TimedDecisionStore(
            new PostgresDecisionStore(config.jdbcUrl, config.tableName, user, password),
            metrics,
            System::currentTimeMillis);
    writer =
        new BatchWriter(
            store,
            config.batchSize,
            config.flushIntervalMs,
            config.maxPendingRecords,
            config.maxBackoffMs);
    writer.start();
    metrics.gauge(
        "decisionflow_jdbc_pending_records",
        "Records waiting to be written",
        () -> writer.pending());
    LOG.info(
        "writing decisions into {} at {} as {} (batches of up to {}, up to {} pending)",
        config.tableName,
        config.jdbcUrl,
        user,
        config.batchSize,
        config.maxPendingRecords);
  }

  @Override
  public void write(Record<Decision> record) throws Exception {
    writer.write(record);
  }

  @Override
  public void close() {
    if (writer != null) {
      writer.close();
    }
    if (store != null) {
      store.close();
    }
    if (metrics != null) {
      metrics.close();
    }
  }

  private static String secret(SinkContext context, String name, String fallback) {
    String value = context == null ? null : context.getSecret(name);
    return value != null && !value.isEmpty() ? value : fallback;
  }
}
