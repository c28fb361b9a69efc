package io.decisionflow.functions;

import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.schemas.TopicSpec;
import io.decisionflow.schemas.Topics;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.route.RouteConfig;
import io.decisionflow.stages.route.RouteStage;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.functions.api.Context;
import org.apache.pulsar.functions.api.Function;

/**
 * Route: {@code transactions-enriched} to {@code scoring-<slot>} of the card's arm. The record is
 * acknowledged once its routed copy is stored.
 */
public class RouteFunction implements Function<byte[], CompletableFuture<Void>> {

  private RouteStage stage;
  private BusinessNamespace namespace;
  private DeadLetters deadLetters;

  @Override
  public void initialize(Context context) {
    RouteConfig config = StageConfigs.load(context.getUserConfigMap(), RouteConfig.class);
    stage = new RouteStage(config, Clock.systemUTC());
    namespace = new BusinessNamespace(context.getTenant(), context.getNamespace());
    deadLetters = new DeadLetters(context, "route");
  }

  @Override
  public CompletableFuture<Void> process(byte[] input, Context context)
      throws PulsarClientException {
    ScoringRequest request;
    try {
      request =
          stage.route(Records.parse(input, EnrichedTransaction.parser(), "EnrichedTransaction"));
    } catch (InvalidRecordException e) {
      return deadLetters.send(input, e).thenApply(sent -> null);
    }
    TopicSpec<ScoringRequest> topic = Topics.scoring(request.getModelSlot());
    return context
        .newOutputMessage(topic.in(namespace), topic.schema())
        .key(request.getEnriched().getTransaction().getCardId())
        .value(request)
        .sendAsync()
        .thenApply(sent -> null);
  }
}
