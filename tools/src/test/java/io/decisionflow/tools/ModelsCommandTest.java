package io.decisionflow.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.deploy.LocalModelStore;
import io.decisionflow.deploy.ModelStore;
import io.decisionflow.deploy.S3ModelStore;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ModelsCommandTest {

  @TempDir Path work;

  @Test
  void aDirectoryStoreIsLocalAndMadeAbsolute() {
    // When
    ModelsCommand.Publish publish = parse("--store", "target/some-store");

    // Then
    try (ModelStore store = publish.openStore()) {
      assertThat(store).isInstanceOf(LocalModelStore.class);
      assertThat(store.root())
          .startsWith("file:")
          .endsWith(Path.of("target/some-store").toAbsolutePath().toUri().getPath());
    }
  }

  @Test
  void anS3StoreTakesTheS3Options() {
    // When
    ModelsCommand.Publish publish =
        parse(
            "--store",
            "s3://models/decisionflow",
            "--s3-endpoint",
            "http://127.0.0.1:9000",
            "--s3-access-key",
            "access",
            "--s3-secret-key",
            "secret");

    // Then
    try (ModelStore store = publish.openStore()) {
      assertThat(store).isInstanceOf(S3ModelStore.class);
      assertThat(store.root()).isEqualTo("s3://models/decisionflow/");
    }
  }

  @Test
  void badS3OptionsAreNamed() {
    assertThatThrownBy(
            () -> parse("--store", "s3://models/x", "--s3-endpoint", "localhost:9000").openStore())
        .hasMessageStartingWith("modelStore.endpoint: ")
        .hasMessageContaining("localhost:9000");
    assertThatThrownBy(() -> parse("--store", "s3://m/x").openStore())
        .hasMessageContaining("bucket name")
        .hasMessageContaining("s3://m/x");
    assertThatThrownBy(
            () ->
                parse("--store", work.toString(), "--s3-endpoint", "http://127.0.0.1:9000")
                    .openStore())
        .hasMessageContaining("--s3-* options need an s3://bucket/prefix --store");
  }

  private static ModelsCommand.Publish parse(String... storeArgs) {
    ModelsCommand.Publish publish = new ModelsCommand.Publish();
    String[] args = new String[4 + storeArgs.length];
    args[0] = "--slot";
    args[1] = "champion";
    args[2] = "--model";
    args[3] = "models/target/models/fraud-v1";
    System.arraycopy(storeArgs, 0, args, 4, storeArgs.length);
    new CommandLine(publish).parseArgs(args);
    return publish;
  }
}
