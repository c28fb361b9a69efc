package io.decisionflow.tools;

import io.decisionflow.deploy.DeadLetterQueue;
import io.decisionflow.schemas.BusinessNamespace;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.pulsar.client.api.PulsarClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** A business unit's dead letters: list them by stage and reason, resubmit selected ones. */
@Command(
    name = "dead-letters",
    mixinStandardHelpOptions = true,
    description = {
      "List a business unit's dead letters (records a stage could never process) by stage and",
      "reason, and resubmit selected ones to the topic they came from once the cause is fixed."
    },
    subcommands = {DeadLettersCommand.List.class, DeadLettersCommand.Resubmit.class})
final class DeadLettersCommand {

  /** Filters shared by both subcommands. */
  static final class Filter {
    @Option(names = "--stage", description = "Only this stage (enrich, route, score, decide, ...).")
    String stage;

    @Option(names = "--reason", description = "Only dead letters whose reason contains this text.")
    String reasonContains;

    @Option(
        names = "--id",
        split = ",",
        description = "Only these dead letters (message ids as `list --records` prints them).")
    Set<String> ids = Set.of();

    DeadLetterQueue.Selection selection() {
      return new DeadLetterQueue.Selection(stage, reasonContains, ids);
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Count the unit's dead letters by stage and reason; --records lists them.")
  static final class List implements Callable<Integer> {
    @Mixin ClusterOptions cluster;
    @Mixin Filter filter;
    @Spec CommandSpec spec;

    @Option(names = "--records", description = "Also list each selected dead letter.")
    boolean records;

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      BusinessNamespace ns = cluster.businessUnit().pipelineNamespace();
      try (PulsarClient client = cluster.client()) {
        var all = new DeadLetterQueue(client, out::println).read(ns);
        DeadLetterQueue.Selection selection = filter.selection();
        var selected = all.stream().filter(selection::matches).toList();
        out.printf(
            Locale.ROOT, "%d dead letters in %s (%d selected)%n", all.size(), ns, selected.size());
        for (DeadLetterQueue.Group g : DeadLetterQueue.groups(selected)) {
          out.printf(
              Locale.ROOT,
              "%6d x %-7s %s (%s .. %s)%n",
              g.count(),
              g.stage(),
              g.reason(),
              Instant.ofEpochMilli(g.firstMs()),
              Instant.ofEpochMilli(g.lastMs()));
        }
        if (records) {
          for (DeadLetterQueue.Entry e : selected) {
            out.printf(
                Locale.ROOT,
                "%s  %s  %-7s key=%s from %s: %s%n",
                e.id(),
                Instant.ofEpochMilli(e.letter().getTimeMs()),
                e.letter().getStage(),
                e.letter().getKey(),
                e.letter().getSourceTopic(),
                e.letter().getReason());
          }
        }
      }
      return 0;
    }
  }

  @Command(
      name = "resubmit",
      mixinStandardHelpOptions = true,
      description = {
        "Publish the selected dead letters' original records again to the topics they came from,",
        "with their key and properties plus " + DeadLetterQueue.RESUBMITTED_FROM + ". Select with",
        "--stage, --reason and --id; with none of them, --all is required."
      })
  static final class Resubmit implements Callable<Integer> {
    @Mixin ClusterOptions cluster;
    @Mixin Filter filter;
    @Spec CommandSpec spec;

    @Option(names = "--all", description = "Resubmit every dead letter of the unit.")
    boolean all;

    @Option(names = "--dry-run", description = "Say what would be resubmitted, publish nothing.")
    boolean dryRun;

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      if (!all && filter.stage == null && filter.reasonContains == null && filter.ids.isEmpty()) {
        spec.commandLine()
            .getErr()
            .println("select dead letters with --stage, --reason or --id, or pass --all");
        return 2;
      }
      BusinessNamespace ns = cluster.businessUnit().pipelineNamespace();
      try (PulsarClient client = cluster.client()) {
        DeadLetterQueue queue = new DeadLetterQueue(client, out::println);
        java.util.List<DeadLetterQueue.Resubmission> records =
            DeadLetterQueue.resubmissions(queue.read(ns), filter.selection());
        if (dryRun) {
          out.printf(Locale.ROOT, "would resubmit %d records (dry run)%n", records.size());
          return 0;
        }
        int sent = queue.resubmit(records);
        out.printf(Locale.ROOT, "resubmitted %d records%n", sent);
      }
      return 0;
    }
  }

  private DeadLettersCommand() {}
}
