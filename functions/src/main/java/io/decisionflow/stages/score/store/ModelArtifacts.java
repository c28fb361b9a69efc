package io.decisionflow.stages.score.store;

import io.decisionflow.stages.score.ModelDigest;
import io.decisionflow.stages.score.ModelManifest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Model directories named by the URI of a {@code ModelDeployment}, checked against its sha256
 * ({@link ModelDigest}) before anything loads them.
 *
 * <ul>
 *   <li>{@code file:} URIs and absolute paths are checked in place.
 *   <li>{@code s3://bucket/prefix/} URIs are downloaded once into {@code <cacheDir>/<hash of the
 *       URI>/<sha256>/}: into a hidden temporary sibling first, checked there, then renamed into
 *       place, so a directory named after a sha256 always holds exactly that model. A later call
 *       reuses it after checking it again.
 * </ul>
 *
 * <p>A refused model is a {@link ModelArtifactException} whose message names the URI; an object
 * store that cannot be reached, or a local disk that fails, is an {@link UncheckedIOException}.
 */
public final class ModelArtifacts implements AutoCloseable {

  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*:.*");

  private final S3Client s3;
  private final ObjectStoreSettings settings;
  private final Path cacheDir;

  /**
   * @param s3 the object store s3:// URIs live in, or null if there is none
   * @param cacheDir where downloaded models are kept, one directory per sha256
   */
  public ModelArtifacts(ObjectStoreSettings s3, Path cacheDir) {
    this(s3, s3 == null ? null : S3Clients.create(s3), cacheDir);
  }

  ModelArtifacts(ObjectStoreSettings settings, S3Client client, Path cacheDir) {
    if (cacheDir == null) {
      throw new IllegalArgumentException("model cache directory is required");
    }
    this.settings = settings;
    this.s3 = client;
    this.cacheDir = cacheDir.toAbsolutePath().normalize();
  }

  /**
   * A local directory holding exactly the model at {@code uri}, checked against {@code
   * expectedSha256}.
   *
   * @param uri {@code file:} URI, absolute path, or {@code s3://bucket/prefix/}
   * @param expectedSha256 the announced digest of the model files, lower-case hex
   * @throws ModelArtifactException if there is no model at the URI, it does not match the digest,
   *     or the URI cannot be served (unsupported scheme, s3:// without an object store)
   * @throws UncheckedIOException if the object store or the local disk fails
   */
  public Path localCopy(String uri, String expectedSha256) {
    if (uri == null || uri.isBlank()) {
      throw new ModelArtifactException("model URI is required, was " + uri);
    }
    String sha = expectedSha256 == null ? null : expectedSha256.trim().toLowerCase(Locale.ROOT);
    if (sha == null || !SHA256.matcher(sha).matches()) {
      throw new ModelArtifactException(
          "model at "
              + uri
              + ": the announced sha256 must be 64 hex digits, was "
              + expectedSha256);
    }
    if (S3Location.isS3(uri)) {
      S3Location location;
      try {
        location = S3Location.parse(uri);
      } catch (IllegalArgumentException e) {
        throw new ModelArtifactException(e.getMessage(), e);
      }
      return fromS3(uri, location, sha);
    }
    Path dir = localPath(uri);
    if (!Files.isDirectory(dir)) {
      throw new ModelArtifactException("no model at " + uri + ": " + dir + " is not a directory");
    }
    requireManifest(uri, dir);
    check(uri, dir, sha);
    return dir;
  }

  /** The directory an absolute path or {@code file:} URI names. */
  static Path localPath(String uri) {
    if (uri.regionMatches(true, 0, "file:", 0, 5)) {
      try {
        return Path.of(URI.create(uri));
      } catch (IllegalArgumentException e) {
        throw new ModelArtifactException("not a valid file: URI, was " + uri, e);
      }
    }
    if (SCHEME.matcher(uri).matches()) {
      String scheme = uri.substring(0, uri.indexOf(':'));
      throw new ModelArtifactException(
          "model URI scheme '"
              + scheme
              + "' is not supported: use s3://bucket/prefix/, a file: URI or an absolute path,"
              + " was "
              + uri);
    }
    Path path = Path.of(uri);
    if (!path.isAbsolute()) {
      throw new ModelArtifactException(
          "model location must be an absolute path, a file: URI or s3://bucket/prefix/, was "
              + uri);
    }
    return path;
  }

  private Path fromS3(String uri, S3Location location, String sha) {
    if (s3 == null) {
      throw new ModelArtifactException(
          "model at "
              + uri
              + " is in S3, but no object store is configured here (modelStore settings)");
    }
    if (location.prefix().isEmpty()) {
      throw new ModelArtifactException(
          "model at "
              + uri
              + ": name the model's folder (s3://bucket/prefix/), not a whole bucket");
    }
    Path folder = cacheFolder(uri);
    Path target = folder.resolve(sha);
    if (Files.isDirectory(target)) {
      if (ModelDigest.of(target).equals(sha)) {
        return target;
      }
      discard(target); // damaged since it was stored: fetch it again
    }
    Path partial;
    try {
      Files.createDirectories(folder);
      partial = Files.createTempDirectory(folder, "." + sha + ".partial-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a download folder in " + folder, e);
    }
    try {
      download(uri, location, partial);
      check(uri, partial, sha);
      try {
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        // Another download of the same model (another instance on this host) got there first.
        if (Files.isDirectory(target) && ModelDigest.of(target).equals(sha)) {
          return target;
        }
        throw new UncheckedIOException("cannot move the model into " + target, e);
      }
      return target;
    } finally {
      deleteQuietly(partial);
    }
  }

  /**
   * The cache folder of one model URI: {@code <cacheDir>/<first 16 hex digits of the URI's
   * sha256>}. The digest covers the model files but not the manifest, so the same files published
   * under two versions must not share a folder.
   */
  Path cacheFolder(String uri) {
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256").digest(uri.getBytes(StandardCharsets.UTF_8));
      return cacheDir.resolve(HexFormat.of().formatHex(hash, 0, 8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  private void download(String uri, S3Location location, Path into) {
    List<S3Object> objects = new ArrayList<>();
    try {
      for (S3Object object :
          s3.listObjectsV2Paginator(
                  ListObjectsV2Request.builder()
                      .bucket(location.bucket())
                      .prefix(location.prefix())
                      .build())
              .contents()) {
        if (!object.key().endsWith("/")) { // folder markers some tools write
          objects.add(object);
        }
      }
    } catch (S3Exception e) {
      throw refused(uri, location, e);
    } catch (SdkClientException e) {
      throw unreachable(uri, e);
    }
    if (objects.isEmpty()) {
      throw new ModelArtifactException("no model at " + uri + ": the prefix holds no objects");
    }
    if (objects.stream().noneMatch(o -> o.key().equals(location.key(ModelManifest.FILE_NAME)))) {
      throw new ModelArtifactException(
          "no model at "
              + uri
              + ": the prefix holds no "
              + ModelManifest.FILE_NAME
              + " (an unfinished upload? the manifest is written last)");
    }
    for (S3Object object : objects) {
      String relative = object.key().substring(location.prefix().length());
      try {
        S3Location.checkRelativePath(relative, uri);
      } catch (IllegalArgumentException e) {
        throw new ModelArtifactException(
            "model at " + uri + " cannot be copied: " + e.getMessage());
      }
      Path file = into.resolve(relative);
      try {
        Files.createDirectories(file.getParent());
        s3.getObject(
            GetObjectRequest.builder().bucket(location.bucket()).key(object.key()).build(),
            ResponseTransformer.toFile(file));
      } catch (S3Exception e) {
        throw refused(uri, location, e);
      } catch (SdkClientException e) {
        throw unreachable(uri, e);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + file, e);
      }
    }
  }

  private RuntimeException refused(String uri, S3Location location, S3Exception e) {
    String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    if ("NoSuchBucket".equals(code)) {
      return new ModelArtifactException(
          "no model at " + uri + ": bucket " + location.bucket() + " does not exist" + where(), e);
    }
    if ("NoSuchKey".equals(code)) {
      return new ModelArtifactException(
          "model at " + uri + " changed while it was downloaded (an object vanished)", e);
    }
    if (e.statusCode() == 403) {
      return new ModelArtifactException(
          "cannot read model at "
              + uri
              + ": access denied"
              + where()
              + " (check the object store credentials)",
          e);
    }
    return new UncheckedIOException(
        "cannot read model at " + uri + where() + ": " + e.getMessage(), new IOException(e));
  }

  private UncheckedIOException unreachable(String uri, SdkClientException e) {
    return new UncheckedIOException(
        "cannot read model at " + uri + where() + ": " + e.getMessage(), new IOException(e));
  }

  private String where() {
    return settings == null || settings.endpoint() == null
        ? ""
        : " (at " + settings.endpoint() + ")";
  }

  private static void requireManifest(String uri, Path dir) {
    if (!Files.isRegularFile(dir.resolve(ModelManifest.FILE_NAME))) {
      throw new ModelArtifactException(
          "no model at " + uri + ": " + dir + " has no " + ModelManifest.FILE_NAME);
    }
  }

  private static void check(String uri, Path dir, String expected) {
    String actual = ModelDigest.of(dir);
    if (!actual.equals(expected)) {
      throw new ModelArtifactException(
          "model at "
              + uri
              + " does not match its announced sha256: expected "
              + expected
              + " but its files hash to "
              + actual);
    }
  }

  /** Renames a damaged cached copy out of the way, then deletes it. */
  private void discard(Path dir) {
    Path aside =
        dir.resolveSibling(
            "." + dir.getFileName() + ".damaged-" + HexFormat.of().toHexDigits(System.nanoTime()));
    try {
      Files.move(dir, aside, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove the damaged cached model " + dir, e);
    }
    deleteQuietly(aside);
  }

  private static void deleteQuietly(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // A leftover hidden folder is never mistaken for a model: only <sha256>/ names are used.
    }
  }

  @Override
  public void close() {
    if (s3 != null) {
      s3.close();
    }
  }
}
