package io.decisionflow.functions.baseline;

import com.google.protobuf.InvalidProtocolBufferException;
import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.state.CardState;
import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.enrich.EnrichConfig;
import io.decisionflow.stages.enrich.EnrichStage;
import io.decisionflow.stages.enrich.MerchantRisks;
import io.decisionflow.stages.enrich.TransactionValidator;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import org.apache.pulsar.functions.api.Context;
import org.apache.pulsar.functions.api.Function;

/**
 * The enrich stage written the naive way, as the Pulsar Functions docs suggest: one blocking state
 * write ({@code putState}) per record before returning it, the runtime's own producer,
 * at-least-once by the runtime. It computes exactly what {@link
 * io.decisionflow.functions.EnrichFunction} computes (the same {@link EnrichStage#step}) and, to be
 * a fair baseline, keeps cards in memory so a card's state is read ({@code getState}, blocking)
 * only the first time. Not part of the pipeline: {@code decisionflow bench-enrich} deploys it to
 * measure what the asynchronous, coalescing state path of {@code EnrichFunction} is worth.
 */
public class BlockingEnrichFunction implements Function<byte[], EnrichedTransaction> {

  private final Map<String, CardState> cards = new HashMap<>();
  private EnrichConfig config;

  @Override
  public void initialize(Context context) {
    config = StageConfigs.load(context.getUserConfigMap(), EnrichConfig.class);
  }

  @Override
  public EnrichedTransaction process(byte[] input, Context context) throws Exception {
    Transaction txn = TransactionValidator.validate(Transaction.parseFrom(input));
    String key = config.stateKeyPrefix + txn.getCardId();
    CardState prior = cards.get(key);
    if (prior == null) {
      prior = parse(key, context.getState(key));
    }
    EnrichStage.Step step =
        EnrichStage.step(
            prior, txn, MerchantRisks.NONE, config.allowedLatenessMs(), System.currentTimeMillis());
    if (step.next() != prior) {
      context.putState(key, ByteBuffer.wrap(step.next().toByteArray()));
    }
    cards.put(key, step.next());
    return step.enriched();
  }

  private static CardState parse(String key, ByteBuffer buffer)
      throws InvalidProtocolBufferException {
    if (buffer == null || !buffer.hasRemaining()) {
      return CardState.getDefaultInstance();
    }
    try {
      return CardState.parseFrom(buffer);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidProtocolBufferException("state " + key + " is not a CardState: " + e);
    }
  }
}
