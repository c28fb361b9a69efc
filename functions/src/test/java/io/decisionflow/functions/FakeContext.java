package io.decisionflow.functions;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.ConsumerBuilder;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.TypedMessageBuilder;
import org.apache.pulsar.functions.api.Context;
import org.apache.pulsar.functions.api.Record;
import org.apache.pulsar.functions.api.utils.FunctionRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Pulsar Functions {@link Context} in memory, for testing function adapters without a broker:
 * state and counters in maps, the user config as given, and every message the function sends
 * captured by topic. There is no broker, so there is no admin client and no consumer to build.
 */
public final class FakeContext implements Context {

  /** A message the function sent. */
  public record Output(
      String topic,
      String key,
      Object value,
      Map<String, String> properties,
      Long eventTime,
      Schema<?> schema,
      Long deliverAfterMs) {}

  private final String tenant;
  private final String namespace;
  private final Map<String, Object> userConfig;
  private final Map<String, ByteBuffer> state = new ConcurrentHashMap<>();
  private final Map<String, Long> counters = new ConcurrentHashMap<>();
  private final Map<String, List<Double>> metrics = new ConcurrentHashMap<>();
  private final Map<String, String> secrets = new ConcurrentHashMap<>();
  private final List<Output> outputs = new CopyOnWriteArrayList<>();
  private final List<Throwable> fatals = new CopyOnWriteArrayList<>();
  private final java.util.Set<String> failingTopics = ConcurrentHashMap.newKeySet();
  private final java.util.Set<String> missingTopics = ConcurrentHashMap.newKeySet();
  private final java.util.Set<String> heldTopics = ConcurrentHashMap.newKeySet();
  private final List<CompletableFuture<MessageId>> heldSends =
      java.util.Collections.synchronizedList(new ArrayList<>());
  private final java.util.concurrent.atomic.AtomicInteger flushes =
      new java.util.concurrent.atomic.AtomicInteger();
  private final AtomicLong sequence = new AtomicLong();
  private final Logger logger = LoggerFactory.getLogger(FakeContext.class);
  private volatile Record<?> currentRecord;
  private String functionName = "function";
  private Collection<String> inputTopics = List.of();
  private String outputTopic;

  public FakeContext(String tenant, String namespace, Map<String, Object> userConfig) {
    this.tenant = tenant;
    this.namespace = namespace;
    this.userConfig = Collections.unmodifiableMap(new HashMap<>(userConfig));
  }

  /** A context in namespace {@code payments/fraud}. */
  public FakeContext(Map<String, Object> userConfig) {
    this("payments", "fraud", userConfig);
  }

  // ---- Set up by tests ----

  /** Makes {@code record} the one being processed. */
  public FakeContext withCurrentRecord(Record<?> record) {
    this.currentRecord = record;
    return this;
  }

  public FakeContext withFunction(String name, Collection<String> inputs, String output) {
    this.functionName = name;
    this.inputTopics = List.copyOf(inputs);
    this.outputTopic = output;
    return this;
  }

  /** Makes every send to {@code topic} fail, as a broker that is away would. */
  public FakeContext failSendsTo(String topic) {
    failingTopics.add(topic);
    return this;
  }

  /** Makes {@code topic} absent: no producer can be created for it. */
  public FakeContext withoutTopic(String topic) {
    missingTopics.add(topic);
    return this;
  }

  /**
   * Keeps sends to {@code topic} on their way (their futures pending, the record captured) until
   * {@link #completeHeldSends()}, as a busy broker would.
   */
  public FakeContext holdSendsTo(String topic) {
    heldTopics.add(topic);
    return this;
  }

  /** Completes the sends held so far. */
  public void completeHeldSends() {
    List<CompletableFuture<MessageId>> held;
    synchronized (heldSends) {
      held = new ArrayList<>(heldSends);
      heldSends.clear();
    }
    held.forEach(f -> f.complete(new FakeMessageId(sequence.incrementAndGet())));
  }

  /** Flushes asked of the stages' own producers so far. */
  public int flushes() {
    return flushes.get();
  }

  /** Lets sends to {@code topic} succeed again. */
  public FakeContext healSendsTo(String topic) {
    failingTopics.remove(topic);
    return this;
  }

  public FakeContext withSecret(String name, String value) {
    secrets.put(name, value);
    return this;
  }

  /** An input record read from {@code topic} with {@code key}. */
  public static <T> FakeRecord<T> input(String topic, String key, T value) {
    return new FakeRecord<>(topic, key, value);
  }

  /** An input record that counts its acknowledgements and failures. */
  public static final class FakeRecord<T> implements Record<T> {
    private final String topic;
    private final String key;
    private final T value;
    private final Map<String, String> properties = new LinkedHashMap<>(Map.of("origin", "test"));
    private int acks;
    private int fails;
    private String replicatedFrom;

    FakeRecord(String topic, String key, T value) {
      this.topic = topic;
      this.key = key;
      this.value = value;
    }

    /** Makes the record's message one replicated from {@code cluster} (geo-replication). */
    public FakeRecord<T> replicatedFrom(String cluster) {
      this.replicatedFrom = cluster;
      return this;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Optional<org.apache.pulsar.client.api.Message<T>> getMessage() {
      if (replicatedFrom == null) {
        return Optional.empty();
      }
      return Optional.of(
          (org.apache.pulsar.client.api.Message<T>)
              java.lang.reflect.Proxy.newProxyInstance(
                  getClass().getClassLoader(),
                  new Class<?>[] {org.apache.pulsar.client.api.Message.class},
                  (proxy, method, args) ->
                      switch (method.getName()) {
                        case "isReplicated" -> true;
                        case "getReplicatedFrom" -> replicatedFrom;
                        case "getValue" -> value;
                        default ->
                            throw new UnsupportedOperationException(
                                "fake message: " + method.getName());
                      }));
    }

    /** Adds a message property, e.g. the attempt number of a retried record. */
    public FakeRecord<T> withProperty(String name, String value) {
      properties.put(name, value);
      return this;
    }

    @Override
    public Optional<String> getTopicName() {
      return Optional.of(topic);
    }

    @Override
    public Optional<String> getKey() {
      return Optional.ofNullable(key);
    }

    @Override
    public T getValue() {
      return value;
    }

    @Override
    public Map<String, String> getProperties() {
      return Collections.unmodifiableMap(properties);
    }

    @Override
    public synchronized void ack() {
      acks++;
    }

    @Override
    public synchronized void fail() {
      fails++;
    }

    public synchronized int acks() {
      return acks;
    }

    public synchronized int fails() {
      return fails;
    }
  }

  // ---- Read by tests ----

  /** Every message sent, in order. */
  public List<Output> outputs() {
    return List.copyOf(outputs);
  }

  /** The values sent to {@code topic}, in order. */
  public <T> List<T> outputsTo(String topic, Class<T> type) {
    return outputs.stream()
        .filter(o -> o.topic().equals(topic))
        .map(o -> type.cast(o.value()))
        .toList();
  }

  /** The stored state of {@code key}, if any. */
  public Optional<ByteBuffer> state(String key) {
    return Optional.ofNullable(getState(key));
  }

  /** Values recorded for a metric. */
  public List<Double> metric(String name) {
    return metrics.getOrDefault(name, List.of());
  }

  /** Errors the function reported as fatal. */
  public List<Throwable> fatals() {
    return List.copyOf(fatals);
  }

  // ---- BaseContext ----

  @Override
  public String getTenant() {
    return tenant;
  }

  @Override
  public String getNamespace() {
    return namespace;
  }

  @Override
  public int getInstanceId() {
    return 0;
  }

  @Override
  public int getNumInstances() {
    return 1;
  }

  @Override
  public Logger getLogger() {
    return logger;
  }

  @Override
  public String getSecret(String secretName) {
    return secrets.get(secretName);
  }

  @Override
  public void putState(String key, ByteBuffer value) {
    ByteBuffer copy = ByteBuffer.allocate(value.remaining()).put(value.duplicate()).flip();
    state.put(key, copy);
  }

  @Override
  public CompletableFuture<Void> putStateAsync(String key, ByteBuffer value) {
    putState(key, value);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public ByteBuffer getState(String key) {
    ByteBuffer value = state.get(key);
    return value == null ? null : value.asReadOnlyBuffer();
  }

  @Override
  public CompletableFuture<ByteBuffer> getStateAsync(String key) {
    return CompletableFuture.completedFuture(getState(key));
  }

  @Override
  public void deleteState(String key) {
    state.remove(key);
  }

  @Override
  public CompletableFuture<Void> deleteStateAsync(String key) {
    deleteState(key);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public void incrCounter(String key, long amount) {
    counters.merge(key, amount, Long::sum);
  }

  @Override
  public CompletableFuture<Void> incrCounterAsync(String key, long amount) {
    incrCounter(key, amount);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public long getCounter(String key) {
    return counters.getOrDefault(key, 0L);
  }

  @Override
  public CompletableFuture<Long> getCounterAsync(String key) {
    return CompletableFuture.completedFuture(getCounter(key));
  }

  @Override
  public void recordMetric(String metricName, double value) {
    metrics.computeIfAbsent(metricName, k -> new CopyOnWriteArrayList<>()).add(value);
  }

  @Override
  public void fatal(Throwable t) {
    fatals.add(t);
  }

  // ---- Context ----

  @Override
  public Collection<String> getInputTopics() {
    return inputTopics;
  }

  @Override
  public String getOutputTopic() {
    return outputTopic;
  }

  @Override
  public Record<?> getCurrentRecord() {
    return currentRecord;
  }

  @Override
  public String getOutputSchemaType() {
    return null;
  }

  @Override
  public String getFunctionName() {
    return functionName;
  }

  @Override
  public String getFunctionId() {
    return tenant + "/" + namespace + "/" + functionName;
  }

  @Override
  public String getFunctionVersion() {
    return "0";
  }

  @Override
  public Map<String, Object> getUserConfigMap() {
    return userConfig;
  }

  @Override
  public Optional<Object> getUserConfigValue(String key) {
    return Optional.ofNullable(userConfig.get(key));
  }

  @Override
  public Object getUserConfigValueOrDefault(String key, Object defaultValue) {
    return userConfig.getOrDefault(key, defaultValue);
  }

  /** No broker, so no admin client. */
  @Override
  public PulsarAdmin getPulsarAdmin() {
    return null;
  }

  @Deprecated
  @Override
  public <X> CompletableFuture<Void> publish(
      String topicName, X object, String schemaOrSerdeClassName) {
    return publish(topicName, object);
  }

  @Deprecated
  @Override
  public <X> CompletableFuture<Void> publish(String topicName, X object) {
    outputs.add(new Output(topicName, null, object, Map.of(), null, null, null));
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public <X> TypedMessageBuilder<X> newOutputMessage(String topicName, Schema<X> schema) {
    if (missingTopics.contains(topicName)) {
      // What the function runtime does when it cannot create the topic's producer.
      throw new RuntimeException(
          "Unable to create producer for topic '" + topicName + "'",
          new org.apache.pulsar.client.api.PulsarClientException.TopicDoesNotExistException(
              topicName));
    }
    return new CapturingMessageBuilder<>(topicName, schema);
  }

  /**
   * A client whose producers capture what they send into {@link #outputs}, as {@link
   * #newOutputMessage} does: a stage that publishes through producers of its own ({@code Outputs})
   * is seen the same way. A topic in {@link #missingTopics} fails at {@code create()}.
   */
  @Override
  public org.apache.pulsar.client.api.PulsarClient getPulsarClient() {
    return proxy(
        org.apache.pulsar.client.api.PulsarClient.class,
        (self, method, args) -> {
          if (method.getName().equals("newProducer") && args != null && args.length == 1) {
            return producerBuilder((Schema<?>) args[0]);
          }
          throw new UnsupportedOperationException("FakeContext's client: " + method.getName());
        });
  }

  private org.apache.pulsar.client.api.ProducerBuilder<?> producerBuilder(Schema<?> schema) {
    String[] topic = new String[1];
    return proxy(
        org.apache.pulsar.client.api.ProducerBuilder.class,
        (self, method, args) ->
            switch (method.getName()) {
              case "topic" -> {
                topic[0] = (String) args[0];
                yield self;
              }
              case "create" -> {
                if (missingTopics.contains(topic[0])) {
                  throw new org.apache.pulsar.client.api.PulsarClientException
                      .TopicDoesNotExistException(topic[0]);
                }
                yield producer(topic[0], schema);
              }
              default -> {
                if (method.getReturnType().isInstance(self)) {
                  yield self; // a setting of the builder
                }
                throw new UnsupportedOperationException(
                    "FakeContext's producer builder: " + method.getName());
              }
            });
  }

  private org.apache.pulsar.client.api.Producer<?> producer(String topic, Schema<?> schema) {
    return proxy(
        org.apache.pulsar.client.api.Producer.class,
        (self, method, args) ->
            switch (method.getName()) {
              case "newMessage" -> new CapturingMessageBuilder<>(topic, schema);
              case "getTopic" -> topic;
              case "close" -> null;
              case "closeAsync" -> CompletableFuture.completedFuture(null);
              case "flush" -> {
                flushes.incrementAndGet();
                yield null;
              }
              case "flushAsync" -> {
                flushes.incrementAndGet();
                yield CompletableFuture.completedFuture(null);
              }
              default ->
                  throw new UnsupportedOperationException(
                      "FakeContext's producer: " + method.getName());
            });
  }

  /** Invoked with the proxy itself, the method and its arguments. */
  private interface ProxyHandler {
    Object invoke(Object self, java.lang.reflect.Method method, Object[] args) throws Exception;
  }

  @SuppressWarnings("unchecked")
  private static <T> T proxy(Class<?> type, ProxyHandler handler) {
    return (T)
        java.lang.reflect.Proxy.newProxyInstance(
            type.getClassLoader(),
            new Class<?>[] {type},
            (self, method, args) -> {
              if (method.getDeclaringClass() == Object.class) {
                return switch (method.getName()) {
                  case "hashCode" -> System.identityHashCode(self);
                  case "equals" -> self == args[0];
                  default -> "FakeContext " + type.getSimpleName();
                };
              }
              return handler.invoke(self, method, args);
            });
  }

  /** No broker, so no consumer. */
  @Override
  public <X> ConsumerBuilder<X> newConsumerBuilder(Schema<X> schema) {
    return null;
  }

  @Override
  public <X> FunctionRecord.FunctionRecordBuilder<X> newOutputRecordBuilder(Schema<X> schema) {
    return FunctionRecord.from(this, schema);
  }

  /** The id of the n-th message sent through this context. */
  record FakeMessageId(long sequence) implements MessageId {
    @Override
    public byte[] toByteArray() {
      return ByteBuffer.allocate(Long.BYTES).putLong(sequence).array();
    }

    @Override
    public int compareTo(MessageId other) {
      return Long.compare(sequence, ((FakeMessageId) other).sequence);
    }
  }

  /** Captures the message into {@link #outputs} when it is sent. */
  private final class CapturingMessageBuilder<T> implements TypedMessageBuilder<T> {

    private static final long serialVersionUID = 1L;

    private final String topic;
    private final transient Schema<T> schema;
    private final Map<String, String> properties = new LinkedHashMap<>();
    private String key;
    private transient T value;
    private Long eventTime;
    private Long deliverAfterMs;

    CapturingMessageBuilder(String topic, Schema<T> schema) {
      this.topic = topic;
      this.schema = schema;
    }

    @Override
    public MessageId send() {
      outputs.add(
          new Output(
              topic,
              key,
              value,
              Collections.unmodifiableMap(properties),
              eventTime,
              schema,
              deliverAfterMs));
      return new FakeMessageId(sequence.incrementAndGet());
    }

    @Override
    public CompletableFuture<MessageId> sendAsync() {
      if (failingTopics.contains(topic)) {
        return CompletableFuture.failedFuture(
            new org.apache.pulsar.client.api.PulsarClientException.TimeoutException(
                "send to " + topic + " timed out"));
      }
      if (heldTopics.contains(topic)) {
        send();
        CompletableFuture<MessageId> held = new CompletableFuture<>();
        heldSends.add(held);
        return held;
      }
      return CompletableFuture.completedFuture(send());
    }

    @Override
    public TypedMessageBuilder<T> key(String key) {
      this.key = key;
      return this;
    }

    @Override
    public TypedMessageBuilder<T> keyBytes(byte[] key) {
      this.key = Base64.getEncoder().encodeToString(key);
      return this;
    }

    @Override
    public TypedMessageBuilder<T> orderingKey(byte[] orderingKey) {
      return this;
    }

    @Override
    public TypedMessageBuilder<T> value(T value) {
      this.value = value;
      return this;
    }

    @Override
    public TypedMessageBuilder<T> property(String name, String value) {
      properties.put(name, value);
      return this;
    }

    @Override
    public TypedMessageBuilder<T> properties(Map<String, String> properties) {
      this.properties.putAll(properties);
      return this;
    }

    @Override
    public TypedMessageBuilder<T> eventTime(long timestamp) {
      this.eventTime = timestamp;
      return this;
    }

    @Override
    public TypedMessageBuilder<T> sequenceId(long sequenceId) {
      return this;
    }

    @Override
    public TypedMessageBuilder<T> replicationClusters(List<String> clusters) {
      return this;
    }

    @Override
    public TypedMessageBuilder<T> disableReplication() {
      return this;
    }

    @Override
    public TypedMessageBuilder<T> deliverAt(long timestamp) {
      return this;
    }

    @Override
    public TypedMessageBuilder<T> deliverAfter(long delay, TimeUnit unit) {
      this.deliverAfterMs = unit.toMillis(delay);
      return this;
    }

    @Override
    @SuppressWarnings("unchecked")
    public TypedMessageBuilder<T> loadConf(Map<String, Object> config) {
      config.forEach(
          (name, value) -> {
            switch (name) {
              case CONF_KEY -> key((String) value);
              case CONF_PROPERTIES -> properties((Map<String, String>) value);
              case CONF_EVENT_TIME -> eventTime(((Number) value).longValue());
              default -> {
                // sequence id, replication and delivery time do not matter without a broker
              }
            }
          });
      return this;
    }
  }
}
