package io.decisionflow.functions;

import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.Topics;
import java.util.concurrent.CompletableFuture;
import org.apache.pulsar.functions.api.Context;

/**
 * Keeps the scores of shadow copies away from decisions: a score of a shadow request ({@code
 * ScoringRequest.shadow}) goes to the unit's {@code shadow-scores} topic and the function returns
 * nothing for it, so nothing reaches {@code scores}; any other score passes through.
 */
final class ShadowScores {

  private final Outputs outputs;
  private final String topic;

  ShadowScores(Context context, Outputs outputs) {
    this.outputs = outputs;
    this.topic =
        Topics.SHADOW_SCORES.in(new BusinessNamespace(context.getTenant(), context.getNamespace()));
  }

  /** Whether {@code score} belongs to a shadow copy. */
  static boolean isShadow(Score score) {
    return score != null && score.getRequest().getShadow();
  }

  /**
   * The score to return to {@code scores}: {@code score} itself, or null for a shadow score, which
   * completes once it is stored on {@code shadow-scores}.
   */
  CompletableFuture<Score> divert(Score score) {
    if (!isShadow(score)) {
      return CompletableFuture.completedFuture(score);
    }
    return outputs
        .send(
            topic,
            Topics.SHADOW_SCORES.schema(),
            score.getRequest().getEnriched().getTransaction().getCardId(),
            score,
            0)
        .thenApply(sent -> null);
  }
}
