package io.decisionflow.deploy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.decisionflow.stages.score.ModelDigest;
import io.decisionflow.stages.score.ModelManifest;
import io.decisionflow.stages.score.store.ObjectStoreSettings;
import io.decisionflow.stages.score.store.S3Clients;
import io.decisionflow.stages.score.store.S3Location;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Model versions in S3-compatible object storage, as {@code
 * s3://<bucket>/<prefix>/<name>/<version>/}, written once. The model files are uploaded first and
 * {@code manifest.json} last, so a reader that sees the manifest sees a complete model (and checks
 * it against the announced sha256 anyway). A version whose manifest is stored is never overwritten:
 * putting the same model is a no-op, another model is refused. Objects under a version without a
 * manifest are an unfinished upload, which the next put of that version replaces.
 */
public final class S3ModelStore implements ModelStore {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final S3Client s3;
  private final S3Location root;
  private final String endpoint;
  private final boolean ownsClient;

  /** A store at {@code root} using {@code s3}, which stays the caller's to close. */
  public S3ModelStore(S3Client s3, S3Location root) {
    this(s3, root, null, false);
  }

  private S3ModelStore(S3Client s3, S3Location root, String endpoint, boolean ownsClient) {
    this.s3 = s3;
    this.root = root;
    this.endpoint = endpoint;
    this.ownsClient = ownsClient;
  }

  /** A store at {@code root} in the object store {@code settings} describe; close it after use. */
  public static S3ModelStore open(S3Location root, ObjectStoreSettings settings) {
    return new S3ModelStore(S3Clients.create(settings), root, settings.endpoint(), true);
  }

  @Override
  public String root() {
    return root.uri();
  }

  @Override
  public Stored put(Path modelDir) {
    ModelManifest manifest = ModelManifest.read(modelDir);
    ModelDigest.verify(modelDir, manifest);
    String sha = ModelDigest.of(modelDir);
    S3Location target = root.resolve(manifest.name()).resolve(manifest.version());
    String manifestKey = target.key(ModelManifest.FILE_NAME);
    try {
      Set<String> existing = keys(target);
      if (existing.contains(manifestKey)) {
        String stored = storedSha(target, manifestKey);
        if (!sha.equals(stored)) {
          throw ModelStore.alreadyHolds(manifest, target.uri(), stored, sha);
        }
        return new Stored(target.uri(), manifest, sha, false);
      }
      Map<String, Path> files = files(modelDir, target);
      for (Map.Entry<String, Path> file : files.entrySet()) {
        if (!file.getKey().equals(manifestKey)) {
          upload(target, file.getKey(), file.getValue());
        }
      }
      for (String stray : existing) { // left by an unfinished upload of other files
        if (!files.containsKey(stray)) {
          s3.deleteObject(DeleteObjectRequest.builder().bucket(target.bucket()).key(stray).build());
        }
      }
      upload(target, manifestKey, modelDir.resolve(ModelManifest.FILE_NAME));
      return new Stored(target.uri(), manifest, sha, true);
    } catch (S3Exception e) {
      String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
      if ("NoSuchBucket".equals(code)) {
        throw new IllegalArgumentException(
            "model store "
                + root.uri()
                + ": bucket "
                + root.bucket()
                + " does not exist"
                + where()
                + "; create it first",
            e);
      }
      if (e.statusCode() == 403) {
        throw new IllegalArgumentException(
            "model store "
                + root.uri()
                + ": access denied"
                + where()
                + " (check the object store credentials)",
            e);
      }
      throw new UncheckedIOException(
          "cannot store the model in " + target.uri() + where() + ": " + e.getMessage(),
          new IOException(e));
    } catch (SdkClientException e) {
      throw new UncheckedIOException(
          "cannot reach the model store " + root.uri() + where() + ": " + e.getMessage(),
          new IOException(e));
    }
  }

  private Set<String> keys(S3Location folder) {
    Set<String> keys = new TreeSet<>();
    for (S3Object object :
        s3.listObjectsV2Paginator(
                ListObjectsV2Request.builder()
                    .bucket(folder.bucket())
                    .prefix(folder.prefix())
                    .build())
            .contents()) {
      keys.add(object.key());
    }
    return keys;
  }

  /**
   * The digest the stored version's manifest records; without one, the digest of the stored files
   * (downloaded to compute it).
   */
  private String storedSha(S3Location target, String manifestKey) {
    try (InputStream in =
        s3.getObject(GetObjectRequest.builder().bucket(target.bucket()).key(manifestKey).build())) {
      Map<?, ?> manifest = JSON.readValue(in, Map.class);
      if (manifest.get("training") instanceof Map<?, ?> training
          && training.get(ModelDigest.MANIFEST_KEY) instanceof String recorded) {
        return recorded;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + target.uri() + ModelManifest.FILE_NAME, e);
    }
    Path copy = null;
    try {
      copy = Files.createTempDirectory("decisionflow-stored-model");
      for (String key : keys(target)) {
        if (key.endsWith("/")) {
          continue; // a folder marker
        }
        String relative = key.substring(target.prefix().length());
        S3Location.checkRelativePath(relative, target.uri());
        Path file = copy.resolve(relative);
        Files.createDirectories(file.getParent());
        s3.getObject(
            GetObjectRequest.builder().bucket(target.bucket()).key(key).build(),
            ResponseTransformer.toFile(file));
      }
      return ModelDigest.of(copy);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the model stored at " + target.uri(), e);
    } finally {
      deleteQuietly(copy);
    }
  }

  /** The model's files by object key, in path order. */
  private static Map<String, Path> files(Path modelDir, S3Location target) {
    List<Path> paths;
    try (Stream<Path> walk = Files.walk(modelDir)) {
      paths = walk.filter(Files::isRegularFile).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the model files in " + modelDir, e);
    }
    Map<String, Path> files = new LinkedHashMap<>();
    for (Path file : paths) {
      List<String> segments = new ArrayList<>();
      modelDir.relativize(file).forEach(p -> segments.add(p.toString()));
      files.put(target.key(String.join("/", segments)), file);
    }
    return files;
  }

  private void upload(S3Location target, String key, Path file) {
    s3.putObject(
        PutObjectRequest.builder().bucket(target.bucket()).key(key).build(),
        RequestBody.fromFile(file));
  }

  private String where() {
    return endpoint == null ? "" : " (at " + endpoint + ")";
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a temporary copy left behind
    }
  }

  @Override
  public void close() {
    if (ownsClient) {
      s3.close();
    }
  }
}
