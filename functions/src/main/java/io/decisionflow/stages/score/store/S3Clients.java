package io.decisionflow.stages.score.store;

import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/** S3 clients for {@link ObjectStoreSettings}, on the JDK's HTTP client. */
public final class S3Clients {

  private S3Clients() {}

  /**
   * A client for the object store {@code settings} describe (validated first). Nothing is contacted
   * until the first request.
   */
  public static S3Client create(ObjectStoreSettings settings) {
    settings.validate();
    AwsCredentialsProvider credentials =
        settings.accessKey() == null
            ? DefaultCredentialsProvider.builder().build()
            : StaticCredentialsProvider.create(
                AwsBasicCredentials.create(settings.accessKey(), settings.secretKey()));
    S3ClientBuilder builder =
        S3Client.builder()
            .httpClientBuilder(
                UrlConnectionHttpClient.builder()
                    .connectionTimeout(Duration.ofSeconds(10))
                    .socketTimeout(Duration.ofSeconds(60)))
            .region(Region.of(settings.region()))
            .forcePathStyle(settings.usePathStyle())
            .credentialsProvider(credentials);
    if (settings.endpoint() != null) {
      // S3-compatible servers differ in which of the newer integrity checksums they accept; the
      // model's own sha256 is checked end to end anyway, so send checksums only where required.
      builder
          .endpointOverride(settings.endpointUri())
          .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
          .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
    }
    return builder.build();
  }
}
