package io.decisionflow.stages.score.store;

import java.util.regex.Pattern;

/**
 * A folder in S3: {@code s3://<bucket>/<prefix>}, where the prefix is empty or ends with {@code /}
 * (so {@code s3://b/fraud/v1} and {@code s3://b/fraud/v1/} are the same folder).
 *
 * @param bucket bucket name
 * @param prefix key prefix: empty, or path segments each followed by {@code /}
 */
public record S3Location(String bucket, String prefix) {

  public static final String SCHEME = "s3://";

  private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

  public S3Location {
    if (bucket == null || !BUCKET.matcher(bucket).matches()) {
      throw new IllegalArgumentException(
          "not a valid S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens), was "
              + bucket);
    }
    if (prefix == null) {
      prefix = "";
    }
    if (!prefix.isEmpty() && !prefix.endsWith("/")) {
      prefix = prefix + "/";
    }
    for (String segment : segments(prefix)) {
      checkSegment(segment, SCHEME + bucket + "/" + prefix);
    }
  }

  /** Whether {@code uri} is meant as an S3 location. */
  public static boolean isS3(String uri) {
    return uri != null && uri.regionMatches(true, 0, SCHEME, 0, SCHEME.length());
  }

  /**
   * Parses {@code s3://bucket/prefix}.
   *
   * @throws IllegalArgumentException naming the URI if it is not one
   */
  public static S3Location parse(String uri) {
    if (!isS3(uri)) {
      throw new IllegalArgumentException("not an s3:// URI, was " + uri);
    }
    String rest = uri.substring(SCHEME.length());
    int slash = rest.indexOf('/');
    String bucket = slash < 0 ? rest : rest.substring(0, slash);
    String prefix = slash < 0 ? "" : rest.substring(slash + 1);
    try {
      return new S3Location(bucket, prefix);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "not a valid S3 location " + uri + ": " + e.getMessage(), e);
    }
  }

  /** The folder {@code <prefix><segment>/} under this one. */
  public S3Location resolve(String segment) {
    checkSegment(segment, uri() + segment);
    return new S3Location(bucket, prefix + segment + "/");
  }

  /** The key of the object {@code relativePath} ({@code /}-separated) in this folder. */
  public String key(String relativePath) {
    return prefix + relativePath;
  }

  /** {@code s3://bucket/prefix}. */
  public String uri() {
    return SCHEME + bucket + "/" + prefix;
  }

  @Override
  public String toString() {
    return uri();
  }

  /**
   * Checks a relative object path (as found below a prefix): segments that are not empty, {@code .}
   * or {@code ..}, so that it maps to a file inside a local folder.
   *
   * @throws IllegalArgumentException if it does not
   */
  public static void checkRelativePath(String relativePath, String where) {
    if (relativePath.isEmpty()) {
      throw new IllegalArgumentException("empty object name in " + where);
    }
    for (String segment : relativePath.split("/", -1)) {
      checkSegment(segment, where);
    }
  }

  private static String[] segments(String prefix) {
    return prefix.isEmpty()
        ? new String[0]
        : prefix.substring(0, prefix.length() - 1).split("/", -1);
  }

  private static void checkSegment(String segment, String where) {
    if (segment.isEmpty()
        || segment.equals(".")
        || segment.equals("..")
        || segment.contains("/")
        || segment.contains("\\")) {
      throw new IllegalArgumentException(
          "path segment '"
              + segment
              + "' in "
              + where
              + " is not allowed (empty, '.', '..' or with a slash)");
    }
  }
}
