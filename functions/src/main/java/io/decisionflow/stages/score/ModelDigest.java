package io.decisionflow.stages.score;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The SHA-256 of a model directory: every file but the manifest, by relative path (in path order)
 * and content. Training writes it into the manifest ({@code training.saved_model_sha256}); loading
 * checks it, so a model changed or damaged after training is refused.
 */
public final class ModelDigest {

  /** Key of the digest in the manifest's {@code training} map. */
  public static final String MANIFEST_KEY = "saved_model_sha256";

  private ModelDigest() {}

  /** The digest of the model files in {@code dir}, in lower-case hex. */
  public static String of(Path dir) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      List<Path> files;
      try (Stream<Path> walk = Files.walk(dir)) {
        files = walk.filter(Files::isRegularFile).sorted().toList();
      }
      for (Path file : files) {
        if (file.getFileName().toString().equals(ModelManifest.FILE_NAME)) {
          continue;
        }
        digest.update(dir.relativize(file).toString().getBytes(StandardCharsets.UTF_8));
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
          in.transferTo(OutputStream.nullOutputStream());
        }
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read model files in " + dir, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  /**
   * Checks {@code dir} against the digest its manifest records, if it records one.
   *
   * @throws IllegalArgumentException naming both digests if the files differ
   */
  public static void verify(Path dir, ModelManifest manifest) {
    Object expected = manifest.training() == null ? null : manifest.training().get(MANIFEST_KEY);
    if (expected == null) {
      return;
    }
    String actual = of(dir);
    if (!actual.equals(String.valueOf(expected))) {
      throw new IllegalArgumentException(
          "model at "
              + dir
              + " does not match its manifest: training."
              + MANIFEST_KEY
              + " is "
              + expected
              + " but the files hash to "
              + actual
              + "; the model was changed or damaged after training");
    }
  }
}
