package io.decisionflow.deploy;

import io.decisionflow.stages.score.ModelDigest;
import io.decisionflow.stages.score.ModelManifest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A directory that holds model versions as {@code <root>/<name>/<version>/}, written once: a
 * version is copied in whole (to a temporary sibling, then moved into place) and never overwritten
 * with different files. Every worker that runs a score function must see the same root (a shared
 * volume, or the same path on every host).
 */
public final class LocalModelStore implements ModelStore {

  private final Path root;

  public LocalModelStore(Path root) {
    if (!root.isAbsolute()) {
      throw new IllegalArgumentException("model store must be an absolute path, was " + root);
    }
    this.root = root;
  }

  /** The directory of {@code name} {@code version} in this store. */
  public Path dir(String name, String version) {
    return root.resolve(name).resolve(version);
  }

  @Override
  public String root() {
    return root.toUri().toString();
  }

  @Override
  public Stored put(Path modelDir) {
    ModelManifest manifest = ModelManifest.read(modelDir);
    ModelDigest.verify(modelDir, manifest);
    String sha = ModelDigest.of(modelDir);
    Path target = root.resolve(manifest.name()).resolve(manifest.version());
    if (Files.isDirectory(target)) {
      String stored = ModelDigest.of(target);
      if (!stored.equals(sha)) {
        throw ModelStore.alreadyHolds(manifest, target.toString(), stored, sha);
      }
      return new Stored(target.toUri().toString(), manifest, sha, false);
    }
    Path partial = target.resolveSibling("." + manifest.version() + ".partial");
    try {
      deleteRecursively(partial);
      copyRecursively(modelDir, partial);
      Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy the model into " + target, e);
    }
    return new Stored(target.toUri().toString(), manifest, sha, true);
  }

  private static void copyRecursively(Path from, Path to) throws IOException {
    List<Path> paths;
    try (Stream<Path> walk = Files.walk(from)) {
      paths = walk.sorted().toList();
    }
    for (Path source : paths) {
      Path dest = to.resolve(from.relativize(source).toString());
      if (Files.isDirectory(source)) {
        Files.createDirectories(dest);
      } else {
        Files.copy(source, dest, StandardCopyOption.COPY_ATTRIBUTES);
      }
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
