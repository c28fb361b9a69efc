package io.decisionflow.functions;

import com.google.protobuf.InvalidProtocolBufferException;
import io.decisionflow.schemas.state.CardState;
import io.decisionflow.stages.enrich.CardStateStore;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.pulsar.functions.api.Context;

/** Card state in Pulsar Functions state (BookKeeper table service): one Protobuf value a card. */
final class PulsarCardStateStore implements CardStateStore {

  private final Context context;

  PulsarCardStateStore(Context context) {
    this.context = context;
  }

  @Override
  public CompletableFuture<Optional<byte[]>> load(String key) {
    return context
        .getStateAsync(key)
        .thenApply(
            buffer -> {
              if (buffer == null || !buffer.hasRemaining()) {
                return Optional.empty();
              }
              byte[] state = new byte[buffer.remaining()];
              buffer.get(state);
              try {
                CardState.parseFrom(state); // refused here, not once cached
                return Optional.of(state);
              } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException("state " + key + " is not a CardState", e);
              }
            });
  }

  @Override
  public CompletableFuture<Void> save(String key, byte[] state) {
    return context.putStateAsync(key, ByteBuffer.wrap(state));
  }
}
