package io.decisionflow.connectors.archive;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Configuration of the archive sink: the {@code configs} map of its sink config, bound by name.
 * Numbers may arrive as integers, doubles ({@code 10000.0}, as a JSON {@code --sink-config}
 * delivers them) or strings; a value that is not a whole number where one is needed is refused. The
 * access key and secret key are better given as the sink's secrets (see {@link
 * #credentials(UnaryOperator)}).
 */
public final class ArchiveSinkConfig {

  public static final String DEFAULT_PREFIX = "decisions";
  public static final String DEFAULT_REGION = "us-east-1";
  public static final int DEFAULT_MAX_BATCH_RECORDS = 10_000;
  public static final long DEFAULT_MAX_BATCH_BYTES = 16L * 1024 * 1024;
  public static final long DEFAULT_MAX_BATCH_AGE_MS = 60_000;

  static final int MAX_BATCH_RECORDS_LIMIT = 1_000_000;
  static final long MIN_BATCH_BYTES = 1024;
  static final long MAX_BATCH_BYTES_LIMIT = 1024L * 1024 * 1024;
  static final long MIN_BATCH_AGE_MS = 1_000;
  static final long MAX_BATCH_AGE_MS_LIMIT = 3_600_000;

  private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
  private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_.=-]+(/[A-Za-z0-9_.=-]+)*");
  private static final Pattern REGION = Pattern.compile("[a-z0-9]+(-[a-z0-9]+)*");

  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);

  /** Bucket the objects go to; required. It must exist. */
  public String bucket;

  /**
   * Key prefix of every object, without leading or trailing {@code /}; default {@code decisions}.
   * Empty puts the {@code tenant=} folders at the top of the bucket.
   */
  public String prefix = DEFAULT_PREFIX;

  /** URL of an S3-compatible server, e.g. {@code http://127.0.0.1:9000}; absent means AWS S3. */
  public String endpoint;

  /** Signing region; default {@code us-east-1}. */
  public String region = DEFAULT_REGION;

  /**
   * Address buckets as {@code <endpoint>/<bucket>/<key>}; default true when an endpoint is set
   * (local and most S3-compatible servers need it), false for AWS.
   */
  public Boolean pathStyle;

  /** A batch is written once it holds this many records; default 10000. */
  public Integer maxBatchRecords = DEFAULT_MAX_BATCH_RECORDS;

  /** A batch is written once its rows take this many bytes before compression; default 16 MiB. */
  public Long maxBatchBytes = DEFAULT_MAX_BATCH_BYTES;

  /** A batch is written once its first record is this old (sink clock); default 60000 ms. */
  public Long maxBatchAgeMs = DEFAULT_MAX_BATCH_AGE_MS;

  /**
   * Access key id, if not given as the sink's secret {@code accessKey}; neither means the AWS
   * default credentials chain (environment, system properties, profile, container or instance
   * role).
   */
  public String accessKey;

  /** Secret access key, if not given as the sink's secret {@code secretKey}. */
  public String secretKey;

  /**
   * Binds {@code configs} (the sink's {@code configs} map) and validates it.
   *
   * @throws ArchiveConfigException naming the field, its value and what to fix
   */
  public static ArchiveSinkConfig load(Map<String, Object> configs) {
    Map<String, Object> settings = new LinkedHashMap<>();
    if (configs != null) {
      configs.forEach((key, value) -> settings.put(key, wholeNumbers(key, value)));
    }
    ArchiveSinkConfig config;
    try {
      config = MAPPER.convertValue(settings, ArchiveSinkConfig.class);
    } catch (IllegalArgumentException e) {
      throw new ArchiveConfigException(describe(e.getCause() == null ? e : e.getCause()), e);
    }
    config.validate();
    return config;
  }

  /**
   * Checks every setting and applies the defaults that depend on others.
   *
   * @throws ArchiveConfigException naming the field, its value and what to fix
   */
  public void validate() {
    ArchiveConfigException.require(
        bucket != null && !bucket.isBlank(),
        "bucket",
        null,
        "is required: the bucket the decisions are archived to");
    bucket = bucket.trim();
    ArchiveConfigException.require(
        BUCKET.matcher(bucket).matches() && !bucket.contains(".."),
        "bucket",
        bucket,
        "must be an S3 bucket name (3 to 63 lower-case letters, digits, '.' or '-')");
    prefix = prefix == null ? "" : stripSlashes(prefix.trim());
    ArchiveConfigException.require(
        prefix.isEmpty() || PREFIX.matcher(prefix).matches(),
        "prefix",
        prefix,
        "must be folder names of letters, digits, '_', '.', '=' or '-' separated by '/'"
            + " (e.g. decisions), or empty");
    endpoint = endpoint == null || endpoint.isBlank() ? null : endpoint.trim();
    if (endpoint != null) {
      validateEndpoint();
    }
    region = region == null || region.isBlank() ? DEFAULT_REGION : region.trim();
    ArchiveConfigException.require(
        REGION.matcher(region).matches(),
        "region",
        region,
        "must be a region name such as us-east-1");
    if (pathStyle == null) {
      pathStyle = endpoint != null;
    }
    ArchiveConfigException.require(
        maxBatchRecords != null
            && maxBatchRecords >= 1
            && maxBatchRecords <= MAX_BATCH_RECORDS_LIMIT,
        "maxBatchRecords",
        maxBatchRecords,
        "must be >= 1 and <= " + MAX_BATCH_RECORDS_LIMIT);
    ArchiveConfigException.require(
        maxBatchBytes != null
            && maxBatchBytes >= MIN_BATCH_BYTES
            && maxBatchBytes <= MAX_BATCH_BYTES_LIMIT,
        "maxBatchBytes",
        maxBatchBytes,
        "must be >= "
            + MIN_BATCH_BYTES
            + " and <= "
            + MAX_BATCH_BYTES_LIMIT
            + " (1 GiB; a batch is held in memory)");
    ArchiveConfigException.require(
        maxBatchAgeMs != null
            && maxBatchAgeMs >= MIN_BATCH_AGE_MS
            && maxBatchAgeMs <= MAX_BATCH_AGE_MS_LIMIT,
        "maxBatchAgeMs",
        maxBatchAgeMs,
        "must be >= "
            + MIN_BATCH_AGE_MS
            + " (ages are checked every second) and <= "
            + MAX_BATCH_AGE_MS_LIMIT
            + " (a batch never spans two hours)");
    accessKey = blankToNull(accessKey);
    secretKey = blankToNull(secretKey);
  }

  /** The batch limits of these settings. */
  public BatchLimits limits() {
    return new BatchLimits(maxBatchRecords, maxBatchBytes, Duration.ofMillis(maxBatchAgeMs));
  }

  /**
   * The credentials to sign with: the sink's secrets {@code accessKey} and {@code secretKey} when
   * given, else those of these settings, else none (the AWS default credentials chain).
   *
   * @param secrets the sink's secret by name (e.g. {@code SinkContext::getSecret}); null if absent
   * @throws ArchiveConfigException if only one of the two is given
   */
  public Credentials credentials(UnaryOperator<String> secrets) {
    String secretAccessKey = blankToNull(secrets.apply("accessKey"));
    String secretSecretKey = blankToNull(secrets.apply("secretKey"));
    boolean fromSecrets = secretAccessKey != null || secretSecretKey != null;
    String id = fromSecrets ? secretAccessKey : accessKey;
    String secret = fromSecrets ? secretSecretKey : secretKey;
    String where = fromSecrets ? "secrets" : "configs";
    if ((id == null) != (secret == null)) {
      throw new ArchiveConfigException(
          where
              + "."
              + (id == null ? "accessKey" : "secretKey")
              + ": access key and secret key go together: give both (as the sink's secrets"
              + " accessKey and secretKey), or neither for the AWS default credentials chain, was"
              + " <missing>");
    }
    return id == null ? Credentials.DEFAULT_CHAIN : new Credentials(id, secret);
  }

  /** An access key and its secret, or neither ({@link #DEFAULT_CHAIN}). */
  public record Credentials(String accessKey, String secretKey) {

    public static final Credentials DEFAULT_CHAIN = new Credentials(null, null);

    public boolean isDefaultChain() {
      return accessKey == null;
    }

    /** Without the secret key. */
    @Override
    public String toString() {
      return accessKey == null ? "default chain" : "access key " + accessKey + " and its secret";
    }
  }

  /** The settings without the secret key. */
  @Override
  public String toString() {
    return "ArchiveSinkConfig[bucket="
        + bucket
        + ", prefix="
        + prefix
        + ", endpoint="
        + (endpoint == null ? "AWS S3" : endpoint)
        + ", region="
        + region
        + ", pathStyle="
        + pathStyle
        + ", maxBatchRecords="
        + maxBatchRecords
        + ", maxBatchBytes="
        + maxBatchBytes
        + ", maxBatchAgeMs="
        + maxBatchAgeMs
        + ", accessKey="
        + (accessKey == null ? "<not in configs>" : accessKey)
        + "]";
  }

  private void validateEndpoint() {
    URI uri;
    try {
      uri = new URI(endpoint);
    } catch (URISyntaxException e) {
      throw new ArchiveConfigException(
          "configs.endpoint: not a valid URL ("
              + e.getReason()
              + "), was "
              + endpoint
              + "; e.g. http://127.0.0.1:9000");
    }
    ArchiveConfigException.require(
        ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
            && uri.getHost() != null,
        "endpoint",
        endpoint,
        "must be an http:// or https:// URL with a host, e.g. http://127.0.0.1:9000");
    ArchiveConfigException.require(
        (uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/"))
            && uri.getRawQuery() == null
            && uri.getRawFragment() == null,
        "endpoint",
        endpoint,
        "must name the server only (no path, query or fragment)");
  }

  /**
   * A whole number given as a double ({@code 10000.0}) becomes a long; a fraction given for a
   * whole-number setting is refused here, with the setting's name.
   */
  private static Object wholeNumbers(String key, Object value) {
    if (!(value instanceof Double || value instanceof Float || value instanceof BigDecimal)) {
      return value;
    }
    BigDecimal number = new BigDecimal(value.toString());
    boolean whole = number.signum() == 0 || number.stripTrailingZeros().scale() <= 0;
    if (whole) {
      return number.longValue();
    }
    if (isWholeNumberSetting(key)) {
      throw new ArchiveConfigException("configs." + key + ": must be a whole number, was " + value);
    }
    return value;
  }

  private static boolean isWholeNumberSetting(String key) {
    try {
      Class<?> type = ArchiveSinkConfig.class.getField(key).getType();
      return type == Integer.class || type == Long.class;
    } catch (NoSuchFieldException e) {
      return false;
    }
  }

  private static String describe(Throwable cause) {
    if (cause instanceof UnrecognizedPropertyException u) {
      String known =
          u.getKnownPropertyIds().stream()
              .map(String::valueOf)
              .sorted()
              .collect(Collectors.joining(", "));
      return "configs." + u.getPropertyName() + ": unknown setting; known settings are " + known;
    }
    if (cause instanceof InvalidFormatException f) {
      return "configs."
          + path(f)
          + ": expected "
          + (f.getTargetType() == Boolean.class ? "true or false" : "a whole number")
          + ", was '"
          + f.getValue()
          + "'";
    }
    if (cause instanceof JsonMappingException m) {
      return "configs." + path(m) + ": " + m.getOriginalMessage();
    }
    return "configs: " + cause.getMessage();
  }

  private static String path(JsonMappingException e) {
    return e.getPath().stream()
        .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
        .collect(Collectors.joining("."));
  }

  private static String stripSlashes(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && s.charAt(start) == '/') {
      start++;
    }
    while (end > start && s.charAt(end - 1) == '/') {
      end--;
    }
    return s.substring(start, end);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }
}
