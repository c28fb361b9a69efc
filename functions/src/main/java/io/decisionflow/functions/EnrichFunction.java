package io.decisionflow.functions;

import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.enrich.EnrichConfig;
import io.decisionflow.stages.enrich.EnrichStage;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import org.apache.pulsar.functions.api.Context;
import org.apache.pulsar.functions.api.Function;

/** Enrich: {@code transactions} to {@code transactions-enriched}, with the card's state. */
public class EnrichFunction implements Function<byte[], CompletableFuture<EnrichedTransaction>> {

  private EnrichStage stage;
  private DeadLetters deadLetters;

  @Override
  public void initialize(Context context) {
    EnrichConfig config = StageConfigs.load(context.getUserConfigMap(), EnrichConfig.class);
    stage = new EnrichStage(config, new PulsarCardStateStore(context), Clock.systemUTC());
    deadLetters = new DeadLetters(context, "enrich");
  }

  @Override
  public CompletableFuture<EnrichedTransaction> process(byte[] input, Context context) {
    try {
      return stage.enrich(Records.parse(input, Transaction.parser(), "Transaction"));
    } catch (InvalidRecordException e) {
      return deadLetters.send(input, e).thenApply(sent -> null);
    }
  }
}
