package io.decisionflow.tools;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.deploy.RoutingRegistry;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.control.RoutingArm;
import io.decisionflow.schemas.control.RoutingStatus;
import io.decisionflow.schemas.control.RoutingTable;
import io.decisionflow.schemas.control.ShadowArm;
import io.decisionflow.stages.route.RoutingTables;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pulsar.client.api.PulsarClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** The routing table of a business unit: set a new one, show the current one and its history. */
@Command(
    name = "routing",
    mixinStandardHelpOptions = true,
    description = "Set and show a business unit's routing table (arms, weights, shadow arms).",
    subcommands = {RoutingCommand.SetTable.class, RoutingCommand.ShowTable.class})
final class RoutingCommand {

  /** {@code name=slot:number}, or {@code slot:number} for an arm named like its slot. */
  private static final Pattern ARM = Pattern.compile("(?:([^=:]+)=)?([^=:]+):(-?\\d+)%?");

  /** One {@code --arm} or {@code --shadow} value. */
  record ArmSpec(String name, String slot, int number) {}

  /** Parses {@code name=slot:number}; picocli reports a failure naming the option and value. */
  static final class ArmConverter implements ITypeConverter<ArmSpec> {
    @Override
    public ArmSpec convert(String value) {
      Matcher m = ARM.matcher(value.trim());
      if (!m.matches()) {
        throw new TypeConversionException(
            "'"
                + value
                + "' is not <name>=<slot>:<percent> (e.g. champion=champion:70, or"
                + " champion:70 for an arm named like its slot)");
      }
      String slot = m.group(2).trim();
      String name = m.group(1) == null ? slot : m.group(1).trim();
      int number;
      try {
        number = Integer.parseInt(m.group(3));
      } catch (NumberFormatException e) {
        throw new TypeConversionException("'" + value + "': percent is out of range");
      }
      if (number < 0 || number > 100) {
        throw new TypeConversionException(
            "'" + value + "': percent must be between 0 and 100, was " + number);
      }
      return new ArmSpec(name, slot, number);
    }
  }

  @Command(
      name = "set",
      mixinStandardHelpOptions = true,
      description = {
        "Publish a new routing table on the unit's `routing` topic. The route functions apply it",
        "within seconds, without a restart, or refuse it (see `routing show`). It is checked",
        "first: weights add up to 100, every slot is one the pipeline serves, names are unique.",
        "Example: routing set --unit payments --version 2026-06-01 \\",
        "  --arm champion=champion:70 --arm challenger=challenger:30 \\",
        "  --shadow candidate=challenger:10 --reason 'more traffic for v2'"
      })
  static final class SetTable implements Callable<Integer> {
    @Mixin ClusterOptions cluster;

    @Option(
        names = "--arm",
        required = true,
        paramLabel = "NAME=SLOT:WEIGHT",
        converter = ArmConverter.class,
        description =
            "A deciding arm and its share of the cards in percent; repeat, in table order."
                + " The weights add up to 100.")
    List<ArmSpec> arms = new ArrayList<>();

    @Option(
        names = "--shadow",
        paramLabel = "NAME=SLOT:PERCENT",
        converter = ArmConverter.class,
        description =
            "A shadow arm: the slot scores a copy of the records of PERCENT of the cards; its"
                + " scores go to `shadow-scores`, never to decisions. Repeatable.")
    List<ArmSpec> shadows = new ArrayList<>();

    @Option(
        names = "--version",
        required = true,
        description = "Version of the new table, written into every routed record.")
    String version;

    @Option(names = "--reason", defaultValue = "", description = "Why the table changes.")
    String reason;

    /** The table the options describe. */
    RoutingTable table() {
      RoutingTable.Builder table =
          RoutingTable.newBuilder()
              .setVersion(version)
              .setReason(reason)
              .setPublishedBy(System.getProperty("user.name", "unknown"));
      for (ArmSpec arm : arms) {
        table.addArms(
            RoutingArm.newBuilder()
                .setName(arm.name())
                .setModelSlot(arm.slot())
                .setWeight(arm.number()));
      }
      for (ArmSpec shadow : shadows) {
        table.addShadows(
            ShadowArm.newBuilder()
                .setName(shadow.name())
                .setModelSlot(shadow.slot())
                .setMirrorPercent(shadow.number()));
      }
      return table.build();
    }

    @Override
    public Integer call() throws Exception {
      Pipeline pipeline = cluster.pipeline(null, line -> {});
      BusinessUnit unit = cluster.businessUnit(pipeline);
      java.util.Set<String> slots = pipeline.routingSlots(unit);
      RoutingTable table = RoutingTables.validate(table(), slots);
      try (PulsarClient client = cluster.client()) {
        new RoutingRegistry(client, System.out::println)
            .publish(unit.pipelineNamespace(), table, slots);
      }
      return 0;
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = {
        "The unit's newest published routing table, every table still on the topic (with its",
        "reason), and what each route function instance applied or refused, from",
        "`routing-status` (a refused table leaves the one before it in force)."
      })
  static final class ShowTable implements Callable<Integer> {
    @Mixin ClusterOptions cluster;

    @Override
    public Integer call() throws Exception {
      BusinessNamespace ns = cluster.businessUnit().pipelineNamespace();
      try (PulsarClient client = cluster.client()) {
        RoutingRegistry registry = new RoutingRegistry(client, line -> {});
        Optional<RoutingTable> current = registry.current(ns);
        if (current.isEmpty()) {
          System.out.println(
              ns + ": no routing table published; the route functions use their userConfig arms");
        } else {
          System.out.println(ns + ": newest table " + line(current.get()));
        }
        List<RoutingTable> history = registry.history(ns);
        if (!history.isEmpty()) {
          System.out.println("history (oldest first):");
          history.forEach(t -> System.out.println("  " + line(t)));
        }
        Map<String, RoutingStatus> statuses = registry.statuses(ns);
        if (!statuses.isEmpty()) {
          System.out.println("route function instances:");
        }
        statuses.forEach(
            (instance, s) ->
                System.out.printf(
                    "  %-14s routes by %s%s  (%s)%n",
                    instance,
                    s.getAppliedVersion(),
                    s.getEvent() == RoutingStatus.Event.REFUSED
                        ? "; REFUSED " + s.getRequestedVersion() + ": " + s.getReason()
                        : "",
                    Instant.ofEpochMilli(s.getTimeMs())));
      }
      return 0;
    }

    static String line(RoutingTable t) {
      return t.getVersion()
          + ": "
          + RoutingTables.describe(t)
          + "  (published "
          + Instant.ofEpochMilli(t.getPublishedAtMs())
          + " by "
          + t.getPublishedBy()
          + (t.getReason().isBlank() ? "" : "; reason: " + t.getReason())
          + ")";
    }
  }

  private RoutingCommand() {}
}
