package io.decisionflow.stages.score.store;

import io.decisionflow.stages.ConfigException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.regex.Pattern;

/**
 * Where S3-compatible object storage is and how to sign in to it. In a score function's {@code
 * userConfig} these are the {@code modelStore} settings ({@code endpoint}, {@code region}, {@code
 * pathStyle}); the credentials come from the function's secrets.
 *
 * @param endpoint URL of an S3-compatible server, e.g. {@code http://127.0.0.1:9000}; absent means
 *     AWS S3 itself
 * @param region signing region; {@code us-east-1} when absent
 * @param pathStyle address buckets as {@code <endpoint>/<bucket>/<key>} rather than {@code
 *     <bucket>.<endpoint>/<key>}; when absent, true if an endpoint is given (local and most
 *     S3-compatible servers need it) and false for AWS
 * @param accessKey access key id; absent (with {@code secretKey}) means the AWS default credentials
 *     chain (environment, system properties, profile, container or instance role)
 * @param secretKey secret access key, given together with {@code accessKey}
 */
public record ObjectStoreSettings(
    String endpoint, String region, Boolean pathStyle, String accessKey, String secretKey) {

  public static final String DEFAULT_REGION = "us-east-1";

  private static final Pattern REGION = Pattern.compile("[a-z0-9]+(-[a-z0-9]+)*");

  public ObjectStoreSettings {
    endpoint = blankToNull(endpoint);
    region = blankToNull(region) == null ? DEFAULT_REGION : region.trim();
    if (pathStyle == null) {
      pathStyle = endpoint != null;
    }
    accessKey = blankToNull(accessKey);
    secretKey = blankToNull(secretKey);
  }

  /** AWS S3 in {@code region}, with the default credentials chain. */
  public static ObjectStoreSettings aws(String region) {
    return new ObjectStoreSettings(null, region, null, null, null);
  }

  /** An S3-compatible server at {@code endpoint} (path-style), with these credentials. */
  public static ObjectStoreSettings at(String endpoint, String accessKey, String secretKey) {
    return new ObjectStoreSettings(endpoint, null, null, accessKey, secretKey);
  }

  /** These settings with other credentials (e.g. read from the function's secrets). */
  public ObjectStoreSettings withCredentials(String accessKey, String secretKey) {
    return new ObjectStoreSettings(endpoint, region, pathStyle, accessKey, secretKey);
  }

  /** Whether buckets are addressed path-style ({@link #pathStyle()} with its default applied). */
  public boolean usePathStyle() {
    return pathStyle;
  }

  /** The endpoint as a URI, or null for AWS S3. */
  public URI endpointUri() {
    return endpoint == null ? null : URI.create(endpoint);
  }

  /**
   * Checks the settings.
   *
   * @throws ConfigException naming the field ({@code modelStore.<field>}) and its value
   */
  public void validate() {
    if (endpoint != null) {
      URI uri;
      try {
        uri = new URI(endpoint);
      } catch (URISyntaxException e) {
        throw new ConfigException(
            "modelStore.endpoint: not a valid URL ("
                + e.getReason()
                + "), was "
                + endpoint
                + "; e.g. http://127.0.0.1:9000");
      }
      require(
          ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
              && uri.getHost() != null,
          "endpoint",
          endpoint,
          "must be an http:// or https:// URL with a host, e.g. http://127.0.0.1:9000");
      require(
          (uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/"))
              && uri.getRawQuery() == null
              && uri.getRawFragment() == null,
          "endpoint",
          endpoint,
          "must name the server only (no path, query or fragment)");
    }
    require(
        REGION.matcher(region).matches(),
        "region",
        region,
        "must be a region name such as us-east-1");
    require(
        (accessKey == null) == (secretKey == null),
        accessKey == null ? "accessKey" : "secretKey",
        null,
        "access key and secret key go together: give both, or neither for the default"
            + " credentials chain");
  }

  /** The settings without the secret key. */
  @Override
  public String toString() {
    return "ObjectStoreSettings[endpoint="
        + (endpoint == null ? "AWS S3" : endpoint)
        + ", region="
        + region
        + ", pathStyle="
        + pathStyle
        + ", credentials="
        + (accessKey == null ? "default chain" : "access key " + accessKey + " and its secret")
        + "]";
  }

  private static void require(boolean condition, String field, Object value, String problem) {
    if (!condition) {
      throw new ConfigException(
          "modelStore."
              + field
              + ": "
              + problem
              + ", was "
              + (value == null ? "<missing>" : value));
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }
}
