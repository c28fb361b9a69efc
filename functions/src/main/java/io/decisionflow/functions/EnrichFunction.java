package io.decisionflow.functions;

import com.google.protobuf.InvalidProtocolBufferException;
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

/**
 * Enrich: {@code transactions} to {@code transactions-enriched}. Reads raw bytes so that a record
 * that does not parse becomes a dead letter instead of failing the instance.
 */
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
      return stage.enrich(parse(input));
    } catch (InvalidRecordException e) {
      return deadLetters.send(input, e).thenApply(sent -> null);
    }
  }

  private static Transaction parse(byte[] input) {
    try {
      return Transaction.parseFrom(input);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidRecordException(
          "record", input.length + " bytes", "is not a Transaction: " + e.getMessage(), e);
    }
  }
}
