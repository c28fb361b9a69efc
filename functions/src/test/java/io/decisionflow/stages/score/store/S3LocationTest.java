package io.decisionflow.stages.score.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class S3LocationTest {

  @Test
  void parsesBucketAndPrefixWithOrWithoutTheTrailingSlash() {
    // When
    S3Location withSlash = S3Location.parse("s3://models/fraud/v1/");
    S3Location without = S3Location.parse("s3://models/fraud/v1");

    // Then both name the folder fraud/v1/ of bucket models
    assertThat(withSlash).isEqualTo(without).isEqualTo(new S3Location("models", "fraud/v1/"));
    assertThat(withSlash.uri()).isEqualTo("s3://models/fraud/v1/");
    assertThat(withSlash.key("variables/variables.index"))
        .isEqualTo("fraud/v1/variables/variables.index");
  }

  @Test
  void aBucketAloneHasAnEmptyPrefixAndResolvesFolders() {
    // Given
    S3Location bucket = S3Location.parse("s3://models");

    // Then
    assertThat(bucket.prefix()).isEmpty();
    assertThat(S3Location.parse("s3://models/").prefix()).isEmpty();
    assertThat(bucket.resolve("fraud").resolve("v2").uri()).isEqualTo("s3://models/fraud/v2/");
  }

  @Test
  void recognisesTheScheme() {
    assertThat(S3Location.isS3("s3://b/x")).isTrue();
    assertThat(S3Location.isS3("S3://b/x")).isTrue();
    assertThat(S3Location.isS3("file:/models/x")).isFalse();
    assertThat(S3Location.isS3("/models/x")).isFalse();
    assertThat(S3Location.isS3(null)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"s3://", "s3:///fraud/v1", "s3://ab/x", "s3://Models/x", "s3://-b-/x"})
  void refusesInvalidBucketNames(String uri) {
    assertThatThrownBy(() -> S3Location.parse(uri))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(uri)
        .hasMessageContaining("bucket name");
  }

  @ParameterizedTest
  @ValueSource(strings = {"s3://models/fraud//v1/", "s3://models/../v1/", "s3://models/fraud/./"})
  void refusesEmptyDotAndDotDotSegments(String uri) {
    assertThatThrownBy(() -> S3Location.parse(uri))
        .hasMessageContaining(uri)
        .hasMessageContaining("is not allowed");
  }

  @Test
  void refusesASegmentThatIsNotOne() {
    assertThatThrownBy(() -> S3Location.parse("s3://models/fraud/").resolve("v1/../../x"))
        .hasMessageContaining("is not allowed");
  }

  @Test
  void relativeObjectPathsMustStayInsideTheFolder() {
    S3Location.checkRelativePath("variables/variables.index", "here");
    assertThatThrownBy(() -> S3Location.checkRelativePath("../escape", "s3://b/m/"))
        .hasMessageContaining("s3://b/m/");
    assertThatThrownBy(() -> S3Location.checkRelativePath("", "s3://b/m/"))
        .hasMessageContaining("empty object name");
  }
}
