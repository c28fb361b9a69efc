package io.decisionflow.models.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.decisionflow.stages.enrich.FeatureSpec;
import io.decisionflow.stages.score.ModelDigest;
import io.decisionflow.stages.score.ModelManifest;
import io.decisionflow.stages.score.TensorFlowModel;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TrainModelTest {

  @Test
  void writesAManifestWithHeldOutAndBayesMetrics(@TempDir Path tmp) {
    Path dir = tmp.resolve("fraud-v2");
    int code =
        new CommandLine(new TrainModel())
            .execute(
                "--output", dir.toString(),
                "--version", "v2",
                "--algorithm", "mlp",
                "--hidden", "8",
                "--rows", "20000",
                "--epochs", "3",
                "--seed", "9");
    assertThat(code).isZero();

    ModelManifest manifest = ModelManifest.read(dir);
    assertThat(manifest.name()).isEqualTo("fraud");
    assertThat(manifest.version()).isEqualTo("v2");
    assertThat(manifest.takesCurrentFeatureSpec()).isTrue();
    assertThat(manifest.features()).isEqualTo(FeatureSpec.NAMES);
    assertThat(manifest.threshold()).isBetween(0.0, 1.0);
    assertThat(manifest.metrics())
        .containsKeys(
            "test_auc",
            "test_log_loss",
            "bayes_auc",
            "bayes_log_loss",
            "auc_ratio_to_bayes",
            "test_precision",
            "test_recall",
            "test_fraud_rate");
    assertThat(manifest.metrics().get("auc_ratio_to_bayes"))
        .isEqualTo(manifest.metrics().get("test_auc") / manifest.metrics().get("bayes_auc"));
    assertThat(manifest.training())
        .containsEntry("seed", 9)
        .containsEntry("rows", 20000)
        .containsEntry("train_rows", 16000)
        .containsEntry("test_rows", 4000)
        .containsEntry("epochs", 3)
        .containsEntry("architecture", "mlp " + FeatureSpec.size() + "-8-1")
        .containsEntry("merchant_table_rows", 471)
        .containsKeys("generator", "algorithm", "unknown_merchants", ModelDigest.MANIFEST_KEY);
    try (TensorFlowModel model = TensorFlowModel.load(dir)) {
      assertThat(model.score(new float[FeatureSpec.size()], 1)[0]).isBetween(0f, 1f);
    }
  }
}
