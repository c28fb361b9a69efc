package io.decisionflow.functions;

import io.decisionflow.metrics.InstanceMetrics;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.schemas.Topics;
import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.decide.DecideStage;
import io.decisionflow.stages.enrich.EnrichConfig;
import io.decisionflow.stages.fused.FusedConfig;
import io.decisionflow.stages.route.RouteStage;
import io.decisionflow.stages.score.MicroBatchTimer;
import io.decisionflow.stages.score.MicroBatcher;
import io.decisionflow.stages.score.Model;
import io.decisionflow.stages.score.ModelLoader;
import io.decisionflow.stages.score.ScoreConfig;
import io.decisionflow.stages.score.ScoreStage;
import io.decisionflow.stages.score.TensorFlowModel;
import io.decisionflow.stages.score.store.ModelArtifacts;
import io.prometheus.client.Counter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pulsar.functions.api.Context;

/**
 * The fused topology: enrich, route, score and decide in one function, through the same stage
 * classes as the chained pipeline ({@link io.decisionflow.stages.enrich.EnrichStage}, {@link
 * RouteStage}, {@link ScoreStage} with its micro-batcher, {@link DecideStage}), for teams that want
 * throughput over per-stage isolation: a record crosses the broker twice (in and out) instead of
 * five times, and one JVM holds what five did.
 *
 * <p>It is {@link EnrichFunction} with the enriched record routed, scored and decided in place of
 * being published: {@code transactions} in, {@code decisions} plus {@code fraud-alerts} or {@code
 * transactions-ok} out (shadow scores to {@code shadow-scores}), published through its own
 * producers ({@code enrich.outputBatchingDelayMicros}). A record is acknowledged once its decision
 * is stored and its card's state is durable, as enrich acknowledges. Deployed with {@code
 * processingGuarantees: MANUAL}, no {@code output} (its outputs are of several types) and the
 * scoring jar. Settings: {@link FusedConfig}.
 *
 * <p>What it gives up: it routes by its configured table and serves each slot's configured model
 * ({@code modelLocation}); it does not follow the {@code routing} and {@code models} topics, so a
 * routing change or a new model version needs a redeploy. Stages cannot be scaled apart.
 */
public class FusedFunction extends EnrichFunction {

  public FusedFunction() {
    this(TensorFlowModel::load, defaultMerchantSources());
  }

  /**
   * @param opener opens a model directory ({@code TensorFlowModel::load}; tests pass a fake)
   */
  FusedFunction(java.util.function.Function<Path, Model> opener, MerchantSources sources) {
    super(
        (context, enrich, metrics) -> FusedStages.open(context, enrich, metrics, opener), sources);
  }

  @Override
  Map<String, Object> settings(Context context) {
    return StageConfigs.load(context.getUserConfigMap(), FusedConfig.class).enrich;
  }

  @Override
  String stageName() {
    return "fused";
  }

  /** Route, score and decide, as the output of the enrich stage. */
  static final class FusedStages implements Output {

    /** One model slot: its stage (model, breaker, fallback) and its micro-batcher. */
    private record Slot(
        ScoreStage stage,
        MicroBatcher<ScoreStage.Prepared, Score> batcher,
        MicroBatchTimer timer,
        ModelArtifacts artifacts) {}

    private final RouteStage route;
    private final Map<String, Slot> slots;
    private final DecideStage decide;
    private final Outputs outputs;
    private final String decisionsTopic;
    private final String alertsTopic;
    private final String okTopic;
    private final String shadowTopic;
    private final Counter decisions;

    private FusedStages(
        RouteStage route,
        Map<String, Slot> slots,
        DecideStage decide,
        Outputs outputs,
        BusinessNamespace ns,
        Counter decisions) {
      this.route = route;
      this.slots = slots;
      this.decide = decide;
      this.outputs = outputs;
      this.decisionsTopic = Topics.DECISIONS.in(ns);
      this.alertsTopic = Topics.FRAUD_ALERTS.in(ns);
      this.okTopic = Topics.TRANSACTIONS_OK.in(ns);
      this.shadowTopic = Topics.SHADOW_SCORES.in(ns);
      this.decisions = decisions;
    }

    /** Loads each slot's model and starts its batcher. */
    static FusedStages open(
        Context context,
        EnrichConfig enrich,
        InstanceMetrics metrics,
        java.util.function.Function<Path, Model> opener) {
      FusedConfig config = StageConfigs.load(context.getUserConfigMap(), FusedConfig.class);
      Map<String, Slot> slots = new LinkedHashMap<>();
      try {
        for (Map.Entry<String, ScoreConfig> e : config.scoreConfigs().entrySet()) {
          slots.put(e.getKey(), slot(e.getValue(), opener));
          context
              .getLogger()
              .info(
                  "fused: slot {} serves {}, batches of up to {}, waiting {} ms",
                  e.getKey(),
                  e.getValue().modelLocation,
                  e.getValue().maxBatchSize,
                  e.getValue().maxBatchWaitMs);
        }
      } catch (RuntimeException e) {
        slots.values().forEach(FusedStages::close);
        throw e;
      }
      Counter decisions = DecideFunction.decisionsCounter(metrics);
      return new FusedStages(
          new RouteStage(config.routeConfig(), Clock.systemUTC()),
          slots,
          new DecideStage(config.decideConfig(), Clock.systemUTC()),
          new Outputs(context, enrich.outputBatchingDelayMicros),
          new BusinessNamespace(context.getTenant(), context.getNamespace()),
          decisions);
    }

    private static Slot slot(ScoreConfig config, java.util.function.Function<Path, Model> opener) {
      ModelArtifacts artifacts = new ModelArtifacts(null, config.modelCachePath());
      try {
        Model model =
            new ModelLoader(artifacts::localCopy, opener, config.maxBatchSize)
                .load(LocalModels.describe(config.modelSlot, config.existingModelPath()));
        ScoreStage stage = new ScoreStage(config, model);
        MicroBatcher<ScoreStage.Prepared, Score> batcher =
            new MicroBatcher<>(
                config.maxBatchSize,
                Duration.ofMillis(config.maxBatchWaitMs),
                stage::scoreAll,
                Clock.systemUTC());
        return new Slot(
            stage,
            batcher,
            MicroBatchTimer.start(batcher, "fused-" + config.modelSlot + "-batches"),
            artifacts);
      } catch (RuntimeException e) {
        artifacts.close();
        throw e;
      }
    }

    @Override
    public CompletableFuture<?> send(String key, long eventTimeMs, EnrichedTransaction enriched) {
      List<CompletableFuture<?>> done = new ArrayList<>();
      for (ScoringRequest request : route.routeAll(enriched)) {
        Slot slot = slots.get(request.getModelSlot());
        CompletableFuture<Score> scored;
        try {
          scored = slot.batcher().submit(slot.stage().prepare(request));
        } catch (RuntimeException e) {
          done.add(CompletableFuture.failedFuture(e));
          continue;
        }
        done.add(
            request.getShadow()
                ? scored.thenCompose(
                    s ->
                        outputs.send(
                            shadowTopic, Topics.SHADOW_SCORES.schema(), key, s, eventTimeMs))
                : scored.thenCompose(s -> decided(decide.decide(s), key, eventTimeMs)));
      }
      return CompletableFuture.allOf(done.toArray(CompletableFuture[]::new));
    }

    private CompletableFuture<?> decided(Decision decision, String key, long eventTimeMs) {
      CompletableFuture<?> stored =
          outputs.send(decisionsTopic, Topics.DECISIONS.schema(), key, decision, eventTimeMs);
      CompletableFuture<?> copy =
          outputs.send(
              DecideStage.isAlert(decision) ? alertsTopic : okTopic,
              Topics.DECISIONS.schema(),
              key,
              decision,
              eventTimeMs);
      return CompletableFuture.allOf(stored, copy)
          .thenRun(() -> DecideFunction.count(decisions, decision));
    }

    @Override
    public void close() {
      outputs.close();
      slots.values().forEach(FusedStages::close);
    }

    private static void close(Slot slot) {
      slot.timer().close();
      slot.batcher().close();
      slot.stage().model().close();
      slot.artifacts().close();
    }
  }
}
