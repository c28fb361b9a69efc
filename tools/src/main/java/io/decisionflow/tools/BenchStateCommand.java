package io.decisionflow.tools;

import io.decisionflow.deploy.Pipeline;
import io.decisionflow.schemas.BusinessNamespace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.apache.pulsar.common.functions.FunctionConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Measures the table service behind Pulsar Functions state from inside a function instance: writes
 * (and reads) at several numbers of calls in flight, one probe function deployed for the run.
 */
@Command(
    name = "bench-state",
    mixinStandardHelpOptions = true,
    description = {
      "Measure Pulsar Functions state (the BookKeeper table service) from inside a function:",
      "updates/s and latency per call at 1, 16 and 256 calls in flight. Deploys a probe function",
      "into --namespace for the run and removes it. Needs state enabled (pulsar-local.sh does)."
    })
final class BenchStateCommand implements Callable<Integer> {

  @Mixin ClusterOptions cluster;

  @Option(
      names = "--namespace",
      defaultValue = "public/default",
      description = "Namespace the probe function runs in (${DEFAULT-VALUE}).")
  String namespace;

  @Option(
      names = "--in-flight",
      split = ",",
      defaultValue = "1,16,256",
      description = "Calls in flight per level (${DEFAULT-VALUE}).")
  List<Integer> inFlight;

  @Option(
      names = "--calls-per-in-flight",
      defaultValue = "200",
      description =
          "Calls per level = this x calls in flight, at least 200 and at most --max-calls"
              + " (${DEFAULT-VALUE}).")
  int callsPerInFlight;

  @Option(
      names = "--max-calls",
      defaultValue = "20000",
      description = "Most calls in one level (${DEFAULT-VALUE}).")
  int maxCalls;

  @Option(
      names = "--keys",
      defaultValue = "10000",
      description = "Distinct keys the calls cycle over (${DEFAULT-VALUE}).")
  int keys;

  @Option(
      names = "--value-bytes",
      defaultValue = "64",
      description = "Bytes per value, about one card's state (${DEFAULT-VALUE}).")
  int valueBytes;

  @Option(
      names = "--out",
      defaultValue = "target/bench/state.txt",
      description = "Report file, relative to the project (${DEFAULT-VALUE}).")
  Path out;

  @Override
  public Integer call() throws Exception {
    String[] ns = namespace.split("/");
    if (ns.length != 2) {
      throw new IllegalArgumentException("--namespace must be tenant/namespace, was " + namespace);
    }
    if (inFlight.stream().anyMatch(n -> n < 1) || keys < 1 || valueBytes < 1) {
      throw new IllegalArgumentException("--in-flight, --keys and --value-bytes must be >= 1");
    }
    Path jar = cluster.project().resolve("functions/target/decisionflow-functions.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalArgumentException(jar + " is missing: build first (mvn package)");
    }
    String name = "state-probe-" + UUID.randomUUID().toString().substring(0, 8);
    String input = "persistent://" + namespace + "/" + name + "-in";
    String output = "persistent://" + namespace + "/" + name + "-out";
    List<String> lines = new ArrayList<>();
    try (PulsarAdmin admin = cluster.admin();
        PulsarClient client = cluster.client()) {
      FunctionConfig config = new FunctionConfig();
      config.setTenant(ns[0]);
      config.setNamespace(ns[1]);
      config.setName(name);
      config.setClassName("io.decisionflow.functions.probe.StateProbeFunction");
      config.setRuntime(FunctionConfig.Runtime.JAVA);
      config.setInputs(List.of(input));
      config.setOutput(output);
      config.setParallelism(1);
      // The first command may be sent before the instance has subscribed.
      config.setSubscriptionPosition(SubscriptionInitialPosition.Earliest);
      config.setProcessingGuarantees(FunctionConfig.ProcessingGuarantees.ATLEAST_ONCE);
      System.out.println("[bench-state] deploying probe function " + namespace + "/" + name);
      admin.functions().createFunction(config, jar.toString());
      try (Consumer<String> results =
              client
                  .newConsumer(Schema.STRING)
                  .topic(output)
                  .subscriptionName("bench")
                  .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                  .subscribe();
          Producer<String> commands =
              client.newProducer(Schema.STRING).topic(input).enableBatching(false).create()) {
        new Pipeline(admin, cluster.project(), System.out::println)
            .awaitRunning(
                new BusinessNamespace(ns[0], ns[1]),
                List.of(name),
                "[bench-state]",
                Duration.ofMinutes(3));
        lines.add(
            String.format(
                "%-5s %9s %8s %12s %8s %8s %8s",
                "mode", "in flight", "calls", "calls/s", "p50 ms", "p99 ms", "max ms"));
        for (String mode : List.of("put", "get")) {
          for (int n : inFlight) {
            int calls = Math.min(maxCalls, Math.max(200, n * callsPerInFlight));
            commands.send(
                String.format(
                    "mode=%s updates=%d inFlight=%d keys=%d valueBytes=%d prefix=%s",
                    mode, calls, n, keys, valueBytes, "k"));
            Message<String> result = results.receive(10, TimeUnit.MINUTES);
            if (result == null) {
              throw new IllegalStateException("no result from the probe in 10 minutes");
            }
            results.acknowledge(result);
            String line = result.getValue();
            System.out.println("[bench-state] " + line);
            if (line.startsWith("error")) {
              throw new IllegalStateException("probe failed: " + line);
            }
            Map<String, String> r = io.decisionflow.functions.probe.ProbeLines.parse(line);
            lines.add(
                String.format(
                    "%-5s %9d %8s %12s %8s %8s %8s",
                    mode,
                    n,
                    r.get("updates"),
                    r.get("perSecond"),
                    r.get("p50Ms"),
                    r.get("p99Ms"),
                    r.get("maxMs")));
          }
        }
      } finally {
        admin.functions().deleteFunction(ns[0], ns[1], name);
        System.out.println("[bench-state] removed probe function " + namespace + "/" + name);
      }
    }
    StringBuilder report = new StringBuilder();
    report.append(
        "decisionflow bench-state: Pulsar Functions state from inside a function instance\n");
    report.append("date:   ").append(Instant.now()).append('\n');
    report.append(
        String.format(
            "setup:  %d keys, %d-byte values, put = putStateAsync, get = getStateAsync%n%n",
            keys, valueBytes));
    lines.forEach(l -> report.append(l).append('\n'));
    System.out.println();
    System.out.print(report);
    Path file = cluster.project().resolve(out);
    Files.createDirectories(file.getParent());
    Files.writeString(file, report);
    System.out.println("wrote " + file);
    return 0;
  }
}
