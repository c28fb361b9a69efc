package io.decisionflow.functions;

import io.decisionflow.metrics.InstanceMetrics;
import io.decisionflow.metrics.StageMetrics;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.control.ModelDeployment;
import io.decisionflow.schemas.control.ModelStatus;
import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.score.MicroBatchTimer;
import io.decisionflow.stages.score.MicroBatcher;
import io.decisionflow.stages.score.Model;
import io.decisionflow.stages.score.ModelLoader;
import io.decisionflow.stages.score.ModelRefusedException;
import io.decisionflow.stages.score.ScoreConfig;
import io.decisionflow.stages.score.ScoreStage;
import io.decisionflow.stages.score.TensorFlowModel;
import io.decisionflow.stages.score.store.ModelArtifacts;
import io.decisionflow.stages.score.store.ObjectStoreSettings;
import io.prometheus.client.Counter;
import io.prometheus.client.Histogram;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.functions.api.Context;
import org.apache.pulsar.functions.api.Function;
import org.apache.pulsar.functions.api.Record;
import org.slf4j.Logger;

/**
 * Score: {@code scoring-<slot>} to {@code scores}, with the slot's TensorFlow SavedModel.
 *
 * <p><b>Which model.</b> The slot's newest {@link ModelDeployment} on the business unit's compacted
 * {@code models} topic; {@code modelLocation} only until the slot has one. When a new deployment
 * for the slot arrives, a background thread fetches it, verifies its sha256, checks its manifest,
 * warms it up and switches to it between two batches, then closes the old model: no restart, every
 * record scored once by one version. A version that cannot serve is refused and the current one
 * keeps serving. Each load and refusal is published on {@code model-status}.
 *
 * <p><b>Shadow copies.</b> A request with {@code shadow} set (a shadow arm's mirrored copy) is
 * scored like any other, but its score goes to {@code shadow-scores} and nothing to {@code scores},
 * so it is never decided.
 *
 * <p><b>Batching.</b> The function is asynchronous: records in flight are scored together, up to
 * {@code maxBatchSize} per model call, waiting at most {@code maxBatchWaitMs} for a batch to fill.
 */
public class ScoreFunction implements Function<byte[], CompletableFuture<Score>> {

  private ScoreConfig config;
  private Outputs outputs;
  private String scoresTopic;
  private ScoreStage stage;
  private MicroBatcher<ScoreStage.Prepared, Score> batcher;
  private MicroBatchTimer timer;
  private DeadLetters deadLetters;
  private Retries retries;
  private ShadowScores shadowScores;
  private ModelDeployments deployments;
  private ModelLoader loader;
  private ModelArtifacts artifacts;
  private Context context;
  private Logger log;
  private String statusTopic;

  private InstanceMetrics metrics;
  private StageMetrics stageMetrics;
  private Counter rows;
  private Histogram.Child inference;
  private Histogram.Child batchSizes;
  private final Object swapLock = new Object();
  private boolean closing;
  private final AtomicLong switches = new AtomicLong();
  private final AtomicLong refusals = new AtomicLong();

  /** What serves now: the announcement it came from (or the configured location's). */
  private volatile ModelDeployment serving;

  @Override
  public void initialize(Context context) throws PulsarClientException {
    this.context = context;
    this.log = context.getLogger();
    config = StageConfigs.load(context.getUserConfigMap(), ScoreConfig.class);
    BusinessNamespace ns = new BusinessNamespace(context.getTenant(), context.getNamespace());
    statusTopic = Topics.MODEL_STATUS.in(ns);
    ObjectStoreSettings objectStore = config.modelStore;
    String accessKey = context.getSecret(ScoreConfig.SECRET_ACCESS_KEY);
    if (objectStore != null && accessKey != null) {
      objectStore =
          objectStore.withCredentials(accessKey, context.getSecret(ScoreConfig.SECRET_SECRET_KEY));
    }
    artifacts = new ModelArtifacts(objectStore, config.modelCachePath());
    loader = new ModelLoader(artifacts::localCopy, TensorFlowModel::load, config.maxBatchSize);
    deployments =
        new ModelDeployments(
            context.getPulsarClient(), Topics.MODELS.in(ns), config.modelSlot, log);
    try {
      long started = System.nanoTime();
      Model model = initialModel(deployments.current());
      stage = new ScoreStage(config, model);
      publishStatus(ModelStatus.Event.LOADED, serving, "", started);
    } catch (RuntimeException e) {
      deployments.close();
      throw e;
    }
    stage.onBreakerTransition(
        transition -> log.warn("score {}: circuit breaker of {}", config.modelSlot, transition));
    registerMetrics(context);
    batcher =
        new MicroBatcher<>(
            config.maxBatchSize,
            Duration.ofMillis(config.maxBatchWaitMs),
            this::scoreTimed,
            Clock.systemUTC());
    timer = MicroBatchTimer.start(batcher, "score-" + config.modelSlot + "-batches");
    deadLetters = new DeadLetters(context, stageMetrics);
    retries =
        new Retries(
            context,
            "score",
            deadLetters,
            io.decisionflow.stages.RetryPolicy.load(context.getUserConfigMap()));
    outputs = new Outputs(context, config.outputBatchingDelayMicros);
    scoresTopic = outputs.outputTopic("score", Topics.SCORES.in(ns));
    shadowScores = new ShadowScores(context, outputs);
    deployments.follow(this::switchTo);
    log.info(
        "score {}: serving {}; batches of up to {}, waiting {} ms; following {}",
        config.modelSlot,
        ModelLoader.describe(serving),
        config.maxBatchSize,
        config.maxBatchWaitMs,
        Topics.MODELS.in(ns));
  }

  /**
   * The stage's metrics (stage {@code score}) and the slot's: rows by model version and by fallback
   * rules, breaker state (0 closed, 1 half-open, 2 open, 3 other), model calls' time and batch
   * sizes, switches and refusals of announced versions; every series labelled {@code slot}.
   */
  private void registerMetrics(Context context) {
    metrics = FunctionMetrics.open(context);
    stageMetrics = new StageMetrics(metrics, "score");
    String slot = config.modelSlot;
    rows =
        metrics.counter(
            "decisionflow_score_rows_total",
            "Rows scored, by slot, model version and source (model or fallback)",
            "slot",
            "model_version",
            "source");
    inference =
        metrics
            .latency(
                "decisionflow_score_inference_seconds",
                "Time to score one batch (the model call, or the fallback rules)",
                "slot")
            .labels(slot);
    batchSizes =
        metrics
            .histogram(
                "decisionflow_score_batch_size",
                "Rows per scored batch",
                new double[] {1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
                "slot")
            .labels(slot);
    List<String> slotLabel = List.of("slot");
    List<String> slotValue = List.of(slot);
    metrics.gauge(
        "decisionflow_score_breaker_state",
        "Circuit breaker of the model: 0 closed, 1 half-open, 2 open, 3 other",
        slotLabel,
        slotValue,
        stage::breakerStateCode);
    metrics.gauge(
        "decisionflow_score_model_rows_total",
        "Rows scored by the model",
        slotLabel,
        slotValue,
        stage::modelRows);
    metrics.gauge(
        "decisionflow_score_fallback_rows_total",
        "Rows scored by the fallback rules",
        slotLabel,
        slotValue,
        stage::fallbackRows);
    metrics.gauge(
        "decisionflow_score_model_switches_total",
        "Announced versions switched to",
        slotLabel,
        slotValue,
        switches::get);
    metrics.gauge(
        "decisionflow_score_model_refusals_total",
        "Announced versions refused",
        slotLabel,
        slotValue,
        refusals::get);
    metrics.gauge(
        "decisionflow_score_batches_total",
        "Batches scored",
        slotLabel,
        slotValue,
        () -> batcher == null ? 0 : batcher.batches());
  }

  private List<Score> scoreTimed(List<ScoreStage.Prepared> batch) {
    long started = System.nanoTime();
    try {
      return stage.scoreAll(batch);
    } finally {
      inference.observe((System.nanoTime() - started) / 1e9);
      batchSizes.observe(batch.size());
    }
  }

  /**
   * The slot's announced model, else the configured one.
   *
   * @throws ConfigException if there is neither, or the only candidate is refused
   */
  private Model initialModel(ModelDeployment announced) {
    if (announced != null) {
      long started = System.nanoTime();
      try {
        Model model = loader.load(announced);
        serving = announced;
        return model;
      } catch (ModelRefusedException e) {
        if (config.modelLocation == null) {
          throw new ConfigException(
              "slot "
                  + config.modelSlot
                  + " cannot start: refused its announced "
                  + e.getMessage()
                  + "; publish a good version or set userConfig.modelLocation",
              e);
        }
        log.error(
            "score {}: refused the announced {}; serving userConfig.modelLocation {} instead",
            config.modelSlot,
            e.getMessage(),
            config.modelLocation);
        refusals.incrementAndGet();
        publishStatus(ModelStatus.Event.REFUSED, announced, e.getMessage(), started);
      }
    }
    if (config.modelLocation == null) {
      throw new ConfigException(
          "slot "
              + config.modelSlot
              + " has no model: nothing announced on "
              + Topics.MODELS.name()
              + " and no userConfig.modelLocation; publish one with `decisionflow models publish"
              + " --slot "
              + config.modelSlot
              + "` or set modelLocation");
    }
    ModelDeployment configured = LocalModels.describe(config.modelSlot, config.existingModelPath());
    Model model = loader.load(configured);
    serving = configured;
    return model;
  }

  /** Loads an announced version off the scoring path and switches to it, or refuses it. */
  private void switchTo(ModelDeployment next) {
    ModelDeployment current = serving;
    if (next.getSha256().equals(current.getSha256())
        && next.getModelVersion().equals(current.getModelVersion())) {
      log.info("score {}: already serving {}", config.modelSlot, ModelLoader.describe(next));
      return;
    }
    long started = System.nanoTime();
    Model loaded;
    try {
      loaded = loadRetryingUnreachableStore(next);
    } catch (ModelRefusedException e) {
      log.error(
          "score {}: refused {}; still serving {}",
          config.modelSlot,
          e.getMessage(),
          current.getModelVersion());
      refusals.incrementAndGet();
      publishStatus(ModelStatus.Event.REFUSED, next, e.getMessage(), started);
      return;
    }
    Model old;
    synchronized (swapLock) {
      if (closing) {
        loaded.close(); // the function is closing: nothing will score with it
        return;
      }
      old = stage.swap(loaded);
      serving = next;
    }
    switches.incrementAndGet();
    old.close();
    long ms = (System.nanoTime() - started) / 1_000_000;
    log.info(
        "score {}: switched from {} to {} in {} ms (fetch, verify, load, warm up)",
        config.modelSlot,
        current.getModelVersion(),
        next.getModelVersion(),
        ms);
    publishStatus(ModelStatus.Event.LOADED, next, "", started);
  }

  /**
   * Loads {@code next}, trying again twice (after 2 s, then 4 s) while the object store cannot be
   * reached; any other refusal is final.
   */
  private Model loadRetryingUnreachableStore(ModelDeployment next) {
    for (int attempt = 1; ; attempt++) {
      try {
        return loader.load(next);
      } catch (ModelRefusedException e) {
        if (attempt == 3 || !(e.getCause() instanceof UncheckedIOException)) {
          throw e;
        }
        log.warn(
            "score {}: {}; trying again (attempt {} of 3)",
            config.modelSlot,
            e.getMessage(),
            attempt + 1);
        try {
          Thread.sleep(2_000L * attempt);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  private void publishStatus(
      ModelStatus.Event event, ModelDeployment requested, String reason, long startedNanos) {
    ModelDeployment now = serving;
    ModelStatus.Builder status =
        ModelStatus.newBuilder()
            .setModelSlot(config.modelSlot)
            .setFunction(
                context.getTenant()
                    + "/"
                    + context.getNamespace()
                    + "/"
                    + context.getFunctionName())
            .setInstanceId(context.getInstanceId())
            .setEvent(event)
            .setRequestedVersion(requested.getModelVersion())
            .setRequestedUri(requested.getUri())
            .setReason(reason)
            .setLoadMs((System.nanoTime() - startedNanos) / 1_000_000)
            .setTimeMs(System.currentTimeMillis());
    if (now != null) {
      status
          .setServingName(now.getModelName())
          .setServingVersion(now.getModelVersion())
          .setServingSha256(now.getSha256())
          .setServingUri(now.getUri());
    }
    try {
      context
          .newOutputMessage(statusTopic, Topics.MODEL_STATUS.schema())
          .key(config.modelSlot + "/" + context.getInstanceId())
          .value(status.build())
          .sendAsync()
          .exceptionally(
              e -> {
                log.warn(
                    "score {}: cannot publish to {}: {}",
                    config.modelSlot,
                    statusTopic,
                    e.toString());
                return null;
              });
    } catch (PulsarClientException e) {
      log.warn("score {}: cannot publish to {}: {}", config.modelSlot, statusTopic, e.toString());
    }
  }

  @Override
  public CompletableFuture<Score> process(byte[] input, Context context) {
    Record<?> record = context.getCurrentRecord();
    long start = stageMetrics.received();
    ScoreStage.Prepared prepared;
    try {
      prepared = stage.prepare(Records.parse(input, ScoringRequest.parser(), "ScoringRequest"));
    } catch (InvalidRecordException e) {
      return deadLetters.send(input, e).thenApply(sent -> null);
    }
    CompletableFuture<Score> scored =
        batcher.submit(prepared).thenApply(score -> counted(score, start));
    return (prepared.request().getShadow()
            ? scored.thenCompose(shadowScores::divert)
            : scored.thenCompose(this::publish))
        .exceptionallyCompose(
            failure -> retries.afterFailure(record, input, failure).thenApply(v -> null));
  }

  /**
   * {@code score} for the runtime to publish, or, through the stage's own producer, null once it is
   * stored on the scores topic.
   */
  private CompletableFuture<Score> publish(Score score) {
    if (!outputs.own()) {
      return CompletableFuture.completedFuture(score);
    }
    Transaction txn = score.getRequest().getEnriched().getTransaction();
    return outputs
        .send(scoresTopic, Topics.SCORES.schema(), txn.getCardId(), score, txn.getEventTimeMs())
        .thenApply(sent -> null);
  }

  private Score counted(Score score, long start) {
    rows.labels(
            config.modelSlot, score.getModelVersion(), score.getFallback() ? "fallback" : "model")
        .inc();
    stageMetrics.emitted(start, score.getRequest().getEnriched().getTransaction().getEventTimeMs());
    return score;
  }

  /**
   * Stops following deployments, stops batching (scoring what is pending), then releases the model.
   */
  /** The instance's metrics. */
  InstanceMetrics metrics() {
    return metrics;
  }

  @Override
  public void close() {
    synchronized (swapLock) {
      closing = true; // a version still loading is closed instead of swapped in
    }
    if (deployments != null) {
      deployments.close();
    }
    if (metrics != null) {
      metrics.close();
    }
    if (timer != null) {
      timer.close();
    }
    if (batcher != null) {
      batcher.close();
    }
    if (outputs != null) {
      outputs.close();
    }
    if (stage != null) {
      stage.model().close();
    }
    if (artifacts != null) {
      artifacts.close();
    }
  }
}
