package io.decisionflow.functions;

import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.enrich.EnrichConfig;
import io.decisionflow.stages.enrich.EnrichStage;
import io.decisionflow.stages.enrich.InMemoryMerchantRisks;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.functions.api.Context;
import org.apache.pulsar.functions.api.Function;
import org.slf4j.Logger;

/**
 * Enrich: {@code transactions} to {@code transactions-enriched}, with the card's state and the
 * merchant's risk.
 *
 * <p><b>Merchant table.</b> Each instance reads the business unit's compacted {@code merchants}
 * topic as a table: to its end at {@code initialize}, so the first records see the loaded table,
 * then live on a background thread, so an update applies to the records processed after it arrives,
 * without a restart. A tombstone deletes its merchant. A record that cannot enter the table is
 * logged and skipped (see {@link MerchantUpdates}). The table's size and the updates applied and
 * ignored are exposed as {@code decisionflow_enrich_*} series (see {@link JmxGauges}).
 */
public class EnrichFunction implements Function<byte[], CompletableFuture<EnrichedTransaction>> {

  /** Where an enrich instance reads the unit's merchant table. */
  interface MerchantSource extends AutoCloseable {
    /** The updates up to the end of the topic, oldest first (after compaction, one per key). */
    List<MerchantUpdate> loaded() throws PulsarClientException;

    /** Calls {@code onUpdate} with each update from now on, one at a time. */
    void follow(Consumer<MerchantUpdate> onUpdate);

    /** Records skipped because they cannot enter the table. */
    long ignored();

    @Override
    void close();
  }

  /** Opens the merchant source of a function instance. */
  interface MerchantSources {
    MerchantSource open(Context context, String topic) throws PulsarClientException;
  }

  private final MerchantSources sources;
  private final InMemoryMerchantRisks merchants = new InMemoryMerchantRisks();
  private final AtomicLong merchantUpdates = new AtomicLong();
  private EnrichStage stage;
  private DeadLetters deadLetters;
  private MerchantSource merchantSource;
  private JmxGauges gauges;
  private Logger log;

  public EnrichFunction() {
    this(
        (context, topic) ->
            new MerchantUpdates(
                context.getPulsarClient(),
                topic,
                context.getFunctionName() + "-" + context.getInstanceId() + "-merchants",
                context.getLogger()));
  }

  EnrichFunction(MerchantSources sources) {
    this.sources = sources;
  }

  @Override
  public void initialize(Context context) throws PulsarClientException {
    log = context.getLogger();
    EnrichConfig config = StageConfigs.load(context.getUserConfigMap(), EnrichConfig.class);
    BusinessNamespace ns = new BusinessNamespace(context.getTenant(), context.getNamespace());
    String topic = Topics.MERCHANTS.in(ns);
    merchantSource = sources.open(context, topic);
    try {
      merchantSource.loaded().forEach(this::apply);
    } catch (RuntimeException | PulsarClientException e) {
      merchantSource.close();
      throw e;
    }
    stage =
        new EnrichStage(config, new PulsarCardStateStore(context), merchants, Clock.systemUTC());
    deadLetters = new DeadLetters(context, "enrich");
    gauges = registerGauges(context);
    merchantSource.follow(this::apply);
    log.info(
        "enrich: feature spec {}; {} merchants in the reference table; following {}",
        config.featureSpecVersion,
        merchants.size(),
        topic);
  }

  /** Applies one update of the merchant table; records processed from now on see it. */
  void apply(MerchantUpdate update) {
    if (update.deletes()) {
      boolean removed = merchants.remove(update.merchantId());
      log.debug(
          "enrich: merchant {} deleted{}", update.merchantId(), removed ? "" : " (was not known)");
    } else {
      merchants.put(update.merchantId(), update.row().getRisk());
      log.debug("enrich: merchant {} risk {}", update.merchantId(), update.row().getRisk());
    }
    merchantUpdates.incrementAndGet();
  }

  /** The merchant table as records see it now. */
  InMemoryMerchantRisks merchants() {
    return merchants;
  }

  /**
   * The merchant table's size and the updates applied and ignored, as {@code decisionflow_enrich_*}
   * series on the worker's {@code /metrics}.
   */
  private JmxGauges registerGauges(Context context) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(
        "fqfn",
        context.getTenant() + "/" + context.getNamespace() + "/" + context.getFunctionName());
    labels.put("instance_id", String.valueOf(context.getInstanceId()));
    Map<String, LongSupplier> values = new LinkedHashMap<>();
    values.put("merchants", merchants::size);
    values.put("merchant_updates_total", merchantUpdates::get);
    values.put("merchant_updates_ignored_total", merchantSource::ignored);
    return JmxGauges.register(
        "enrich", labels, values, "enrich function: the merchant reference table it joins");
  }

  @Override
  public CompletableFuture<EnrichedTransaction> process(byte[] input, Context context) {
    try {
      return stage.enrich(Records.parse(input, Transaction.parser(), "Transaction"));
    } catch (InvalidRecordException e) {
      return deadLetters.send(input, e).thenApply(sent -> null);
    }
  }

  @Override
  public void close() {
    if (merchantSource != null) {
      merchantSource.close();
    }
    if (gauges != null) {
      gauges.close();
    }
  }
}
