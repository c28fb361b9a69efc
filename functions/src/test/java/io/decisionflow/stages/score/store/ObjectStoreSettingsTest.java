package io.decisionflow.stages.score.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.decisionflow.stages.ConfigException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ObjectStoreSettingsTest {

  @Test
  void awsByDefaultInUsEast1WithVirtualHostsAndTheDefaultCredentialsChain() {
    // When
    ObjectStoreSettings settings = new ObjectStoreSettings(null, " ", null, null, "");

    // Then
    settings.validate();
    assertThat(settings.endpoint()).isNull();
    assertThat(settings.endpointUri()).isNull();
    assertThat(settings.region()).isEqualTo("us-east-1");
    assertThat(settings.usePathStyle()).isFalse();
    assertThat(settings.accessKey()).isNull();
    assertThat(settings.secretKey()).isNull();
  }

  @Test
  void anEndpointMeansPathStyleUnlessSaidOtherwise() {
    assertThat(ObjectStoreSettings.at("http://127.0.0.1:9000", "a", "s").usePathStyle()).isTrue();
    assertThat(
            new ObjectStoreSettings("https://s3.example.net", "eu-west-1", false, null, null)
                .usePathStyle())
        .isFalse();
  }

  @Test
  void bindsFromUserConfigAndTakesCredentialsFromSecretsAfterwards() {
    // Given the modelStore settings of a function's userConfig
    Map<String, Object> userConfig =
        Map.of("endpoint", "http://127.0.0.1:9000", "region", "eu-central-1");

    // When bound as the function's config binder does, then given the secrets
    ObjectStoreSettings settings =
        new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .convertValue(userConfig, ObjectStoreSettings.class)
            .withCredentials("access", "secret");

    // Then
    settings.validate();
    assertThat(settings)
        .isEqualTo(
            new ObjectStoreSettings(
                "http://127.0.0.1:9000", "eu-central-1", true, "access", "secret"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "ftp://127.0.0.1:9000",
        "127.0.0.1:9000",
        "http://",
        "http://127.0.0.1:9000/bucket",
        "http://127.0.0.1:9000?x=1",
        "http://bad host"
      })
  void refusesAnEndpointThatIsNotAServerUrl(String endpoint) {
    assertThatThrownBy(() -> ObjectStoreSettings.at(endpoint, null, null).validate())
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("modelStore.endpoint: ")
        .hasMessageContaining(endpoint);
  }

  @Test
  void refusesARegionThatIsNotOne() {
    assertThatThrownBy(() -> ObjectStoreSettings.aws("EU West").validate())
        .hasMessage("modelStore.region: must be a region name such as us-east-1, was EU West");
  }

  @Test
  void anAccessKeyNeedsItsSecretAndTheOtherWayRound() {
    assertThatThrownBy(() -> ObjectStoreSettings.at("http://h:1", "access", null).validate())
        .hasMessageStartingWith("modelStore.secretKey: ")
        .hasMessageContaining("give both");
    assertThatThrownBy(() -> ObjectStoreSettings.at("http://h:1", null, "secret").validate())
        .hasMessageStartingWith("modelStore.accessKey: ");
  }

  @Test
  void neverShowsTheSecretKey() {
    ObjectStoreSettings settings = ObjectStoreSettings.at("http://h:1", "access", "s3cr3t");
    assertThat(settings.toString()).contains("access").doesNotContain("s3cr3t");
  }

  @Test
  void aClientIsBuiltWithoutContactingAnything() {
    try (var client = S3Clients.create(ObjectStoreSettings.at("http://127.0.0.1:1", "a", "s"))) {
      assertThat(client.serviceClientConfiguration().region().id()).isEqualTo("us-east-1");
    }
  }
}
