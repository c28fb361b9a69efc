package io.decisionflow.connectors.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ArchiveSinkConfigTest {

  private static Map<String, Object> configs(Object... keysAndValues) {
    Map<String, Object> map = new HashMap<>();
    map.put("bucket", "decisions-archive");
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }

  @Test
  void appliesTheDefaults() {
    ArchiveSinkConfig config = ArchiveSinkConfig.load(Map.of("bucket", "decisions-archive"));

    assertThat(config.prefix).isEqualTo("decisions");
    assertThat(config.endpoint).isNull();
    assertThat(config.region).isEqualTo("us-east-1");
    assertThat(config.pathStyle).isFalse();
    assertThat(config.limits())
        .isEqualTo(new BatchLimits(10_000, 16L * 1024 * 1024, Duration.ofMinutes(1)));
  }

  @Test
  void anEndpointMeansPathStyleUnlessSaidOtherwise() {
    assertThat(ArchiveSinkConfig.load(configs("endpoint", "http://127.0.0.1:9000")).pathStyle)
        .isTrue();
    assertThat(
            ArchiveSinkConfig.load(
                    configs("endpoint", "http://127.0.0.1:9000", "pathStyle", "false"))
                .pathStyle)
        .isFalse();
  }

  @Test
  void takesNumbersAsIntegersWholeDoublesOrStrings() {
    ArchiveSinkConfig config =
        ArchiveSinkConfig.load(
            configs("maxBatchRecords", 500.0, "maxBatchBytes", "2048", "maxBatchAgeMs", 5000));

    assertThat(config.limits()).isEqualTo(new BatchLimits(500, 2048, Duration.ofSeconds(5)));
  }

  @Test
  void trimsSlashesOffThePrefix() {
    assertThat(ArchiveSinkConfig.load(configs("prefix", "/archive/decisions/")).prefix)
        .isEqualTo("archive/decisions");
    assertThat(ArchiveSinkConfig.load(configs("prefix", "")).prefix).isEmpty();
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        Arguments.of(
            Map.of(),
            "configs.bucket: is required: the bucket the decisions are archived to, was <missing>"),
        Arguments.of(
            configs("bucket", "Decisions_Archive"),
            "configs.bucket: must be an S3 bucket name (3 to 63 lower-case letters, digits, '.' or"
                + " '-'), was Decisions_Archive"),
        Arguments.of(
            configs("prefix", "a//b"),
            "configs.prefix: must be folder names of letters, digits, '_', '.', '=' or '-'"
                + " separated by '/' (e.g. decisions), or empty, was a//b"),
        Arguments.of(
            configs("endpoint", "127.0.0.1:9000"),
            "configs.endpoint: not a valid URL (Illegal character in scheme name), was"
                + " 127.0.0.1:9000; e.g. http://127.0.0.1:9000"),
        Arguments.of(
            configs("endpoint", "ftp://127.0.0.1:9000"),
            "configs.endpoint: must be an http:// or https:// URL with a host, e.g."
                + " http://127.0.0.1:9000, was ftp://127.0.0.1:9000"),
        Arguments.of(
            configs("endpoint", "http://127.0.0.1:9000/bucket"),
            "configs.endpoint: must name the server only (no path, query or fragment), was"
                + " http://127.0.0.1:9000/bucket"),
        Arguments.of(
            configs("region", "US East"),
            "configs.region: must be a region name such as us-east-1, was US East"),
        Arguments.of(
            configs("maxBatchRecords", 0),
            "configs.maxBatchRecords: must be >= 1 and <= 1000000, was 0"),
        Arguments.of(
            configs("maxBatchRecords", 1.5),
            "configs.maxBatchRecords: must be a whole number, was 1.5"),
        Arguments.of(
            configs("maxBatchRecords", "lots"),
            "configs.maxBatchRecords: expected a whole number, was 'lots'"),
        Arguments.of(
            configs("maxBatchBytes", "100"),
            "configs.maxBatchBytes: must be >= 1024 and <= 1073741824 (1 GiB; a batch is held in"
                + " memory), was 100"),
        Arguments.of(
            configs("maxBatchAgeMs", 10),
            "configs.maxBatchAgeMs: must be >= 1000 (ages are checked every second) and <= 3600000"
                + " (a batch never spans two hours), was 10"),
        Arguments.of(
            configs("pathStyle", "sometimes"),
            "configs.pathStyle: expected true or false, was 'sometimes'"),
        Arguments.of(
            configs("maxBatchSize", 10),
            "configs.maxBatchSize: unknown setting; known settings are accessKey, bucket,"
                + " endpoint, maxBatchAgeMs, maxBatchBytes, maxBatchRecords, pathStyle, prefix,"
                + " region, secretKey"));
  }

  @ParameterizedTest
  @MethodSource("invalid")
  void refusesABadSettingNamingTheFieldAndTheValue(Map<String, Object> configs, String message) {
    assertThatThrownBy(() -> ArchiveSinkConfig.load(configs))
        .isInstanceOf(ArchiveConfigException.class)
        .hasMessage(message);
  }

  @Test
  void credentialsComeFromTheSecretsFirstThenTheConfigsElseTheDefaultChain() {
    ArchiveSinkConfig withKeys =
        ArchiveSinkConfig.load(configs("accessKey", "config-id", "secretKey", "config-secret"));
    Map<String, String> secrets = Map.of("accessKey", "secret-id", "secretKey", "secret-secret");

    assertThat(withKeys.credentials(secrets::get))
        .isEqualTo(new ArchiveSinkConfig.Credentials("secret-id", "secret-secret"));
    assertThat(withKeys.credentials(name -> null))
        .isEqualTo(new ArchiveSinkConfig.Credentials("config-id", "config-secret"));
    assertThat(ArchiveSinkConfig.load(configs()).credentials(name -> null).isDefaultChain())
        .isTrue();
  }

  @Test
  void refusesAnAccessKeyWithoutItsSecret() {
    ArchiveSinkConfig config = ArchiveSinkConfig.load(configs());

    assertThatThrownBy(() -> config.credentials(Map.of("accessKey", "id")::get))
        .isInstanceOf(ArchiveConfigException.class)
        .hasMessageStartingWith("secrets.secretKey: access key and secret key go together");
  }

  @Test
  void neverShowsTheSecretKey() {
    ArchiveSinkConfig config =
        ArchiveSinkConfig.load(configs("accessKey", "id", "secretKey", "s3cr3t"));

    assertThat(config.toString()).contains("id").doesNotContain("s3cr3t");
    assertThat(config.credentials(name -> null).toString()).doesNotContain("s3cr3t");
  }
}
