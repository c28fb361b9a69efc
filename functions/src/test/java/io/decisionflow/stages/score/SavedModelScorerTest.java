package io.decisionflow.stages.score;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SavedModelScorerTest {

  @Test
  void missingDirectoryIsRejectedWithItsPath(@TempDir Path tmp) {
    Path missing = tmp.resolve("no-such-model");
    assertThatThrownBy(() -> SavedModelScorer.load(missing))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(missing.toString())
        .hasMessageContaining("does not exist");
  }

  @Test
  void regularFileIsRejectedWithItsPath(@TempDir Path tmp) throws Exception {
    Path file = Files.writeString(tmp.resolve("model.txt"), "not a model");
    assertThatThrownBy(() -> SavedModelScorer.load(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(file.toString());
  }

  @Test
  void directoryWithoutSavedModelIsRejectedWithItsPath(@TempDir Path tmp) throws Exception {
    Files.writeString(tmp.resolve("manifest.json"), "{}");
    assertThatThrownBy(() -> SavedModelScorer.load(tmp))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(tmp.toString())
        .hasMessageContaining("not a SavedModel");
  }

  @Test
  void corruptSavedModelIsRejectedWithItsPath(@TempDir Path tmp) throws Exception {
    Files.write(tmp.resolve("saved_model.pb"), new byte[] {1, 2, 3, 4, 5});
    assertThatThrownBy(() -> SavedModelScorer.load(tmp))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(tmp.toString());
  }

  @Test
  void nullDirectoryIsRejected() {
    assertThatThrownBy(() -> SavedModelScorer.load(null))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
