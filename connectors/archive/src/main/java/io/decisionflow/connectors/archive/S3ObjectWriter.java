package io.decisionflow.connectors.archive;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * Writes objects to an S3-compatible bucket with the AWS SDK's synchronous client on the JDK's HTTP
 * client, off the caller's thread on a small pool. Each PUT carries the body's MD5, so the store
 * refuses a body damaged on the way.
 */
public final class S3ObjectWriter implements ObjectWriter {

  static final String CONTENT_TYPE = "application/gzip";

  private static final int THREADS = 2;

  private final S3Client client;
  private final String bucket;
  private final ExecutorService executor;

  S3ObjectWriter(S3Client client, String bucket) {
    this.client = client;
    this.bucket = bucket;
    AtomicInteger threads = new AtomicInteger();
    this.executor =
        Executors.newFixedThreadPool(
            THREADS,
            task -> {
              Thread thread = new Thread(task, "decision-archive-put-" + threads.incrementAndGet());
              thread.setDaemon(true);
              // The SDK finds some of its parts through the context class loader: the NAR's.
              thread.setContextClassLoader(S3ObjectWriter.class.getClassLoader());
              return thread;
            });
  }

  /** A writer to the bucket of {@code config}, signing with {@code credentials}. */
  public static S3ObjectWriter create(
      ArchiveSinkConfig config, ArchiveSinkConfig.Credentials credentials) {
    return new S3ObjectWriter(client(config, credentials), config.bucket);
  }

  /**
   * An S3 client for the store {@code config} names. Nothing is contacted until the first request.
   * (The score functions have their own for model artifacts, with their own settings; this one
   * keeps the functions module out of the NAR.)
   */
  static S3Client client(ArchiveSinkConfig config, ArchiveSinkConfig.Credentials credentials) {
    AwsCredentialsProvider provider =
        credentials.isDefaultChain()
            ? DefaultCredentialsProvider.builder().build()
            : StaticCredentialsProvider.create(
                AwsBasicCredentials.create(credentials.accessKey(), credentials.secretKey()));
    S3ClientBuilder builder =
        S3Client.builder()
            .httpClientBuilder(
                UrlConnectionHttpClient.builder()
                    .connectionTimeout(Duration.ofSeconds(10))
                    .socketTimeout(Duration.ofSeconds(60)))
            // Every write ends, one way or the other, so its records are acknowledged or failed.
            .overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMinutes(5)))
            .region(Region.of(config.region))
            .forcePathStyle(config.pathStyle)
            .credentialsProvider(provider);
    if (config.endpoint != null) {
      // S3-compatible servers differ in which of the newer integrity checksums they accept; the
      // Content-MD5 of every PUT protects the body instead.
      builder
          .endpointOverride(java.net.URI.create(config.endpoint))
          .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
          .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
    }
    return builder.build();
  }

  @Override
  public CompletableFuture<Void> put(String key, byte[] body) {
    PutObjectRequest request =
        PutObjectRequest.builder()
            .bucket(bucket)
            .key(key)
            .contentType(CONTENT_TYPE)
            .contentLength((long) body.length)
            .contentMD5(md5(body))
            .build();
    return CompletableFuture.runAsync(
        () -> client.putObject(request, RequestBody.fromBytes(body)), executor);
  }

  @Override
  public void close() {
    executor.shutdown();
    try {
      if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      Thread.currentThread().interrupt();
    } finally {
      client.close();
    }
  }

  static String md5(byte[] body) {
    try {
      return Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(body));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no MD5", e);
    }
  }
}
