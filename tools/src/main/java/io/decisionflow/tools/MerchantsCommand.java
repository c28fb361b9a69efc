package io.decisionflow.tools;

import io.decisionflow.deploy.MerchantCsv;
import io.decisionflow.deploy.MerchantRegistry;
import io.decisionflow.models.synthetic.TransactionGenerator;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.reference.MerchantRisk;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.pulsar.client.api.PulsarClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The merchant reference table of a business unit: load it from CSV, show it. */
@Command(
    name = "merchants",
    mixinStandardHelpOptions = true,
    description = {
      "Load and show a business unit's merchant reference table: the risk of each merchant, which",
      "the enrich functions join into every transaction (features merchant_risk and",
      "merchant_unknown) and follow live, from the unit's compacted `merchants` topic."
    },
    subcommands = {
      MerchantsCommand.Load.class,
      MerchantsCommand.Show.class,
      MerchantsCommand.ExportSynthetic.class
    })
final class MerchantsCommand {

  /** Rejected rows printed before the rest are counted only. */
  static final int REJECTED_SHOWN = 20;

  @Command(
      name = "load",
      mixinStandardHelpOptions = true,
      description = {
        "Publish the merchants of a CSV file to the unit's `merchants` topic, keyed by merchant id.",
        "Header: merchant_id,risk[,category]; risk is a number in [0, 1]; a row with an empty risk",
        "deletes the merchant. Running enrich functions apply the rows within seconds, without a",
        "restart. The file is checked first: if a row is bad, nothing is published (unless",
        "--skip-bad-rows), and each bad row is named with its line, field and value."
      })
  static final class Load implements Callable<Integer> {
    @Mixin ClusterOptions cluster;

    @Spec CommandSpec spec;

    @Option(names = "--file", required = true, description = "CSV file of merchants.")
    Path file;

    @Option(
        names = "--skip-bad-rows",
        description = "Publish the good rows even if some are bad (default: publish nothing).")
    boolean skipBadRows;

    @Option(
        names = "--dry-run",
        description = "Check the file and say what would be published, without publishing.")
    boolean dryRun;

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      long started = System.nanoTime();
      MerchantCsv.Parsed parsed = MerchantCsv.read(file);
      int rejected = parsed.rejected().size();
      parsed.rejected().stream()
          .limit(REJECTED_SHOWN)
          .forEach(r -> err.println("rejected " + r.message()));
      if (rejected > REJECTED_SHOWN) {
        err.println("... and " + (rejected - REJECTED_SHOWN) + " more rejected rows");
      }
      err.flush();
      if (rejected > 0 && !skipBadRows) {
        throw new IllegalArgumentException(
            rejected
                + (rejected == 1 ? " bad row" : " bad rows")
                + " in "
                + file
                + "; nothing published (fix "
                + (rejected == 1 ? "it" : "them")
                + ", or pass --skip-bad-rows to publish the "
                + parsed.changes().size()
                + " good rows)");
      }
      BusinessNamespace ns = cluster.businessUnit().pipelineNamespace();
      if (dryRun) {
        out.printf(
            "merchants of %s from %s: would publish %d, delete %d; %d rejected (dry run, nothing"
                + " published)%n",
            ns, file, parsed.upserts(), parsed.deletes(), rejected);
        out.flush();
        return 0;
      }
      MerchantRegistry.Summary summary;
      try (PulsarClient client = cluster.client()) {
        summary =
            new MerchantRegistry(
                    client,
                    line -> {
                      out.println(line);
                      out.flush();
                    })
                .publish(ns, parsed.changes());
      }
      out.printf(
          Locale.ROOT,
          "merchants of %s from %s: %d published, %d deleted, %d rejected (in %.1f s)%n",
          ns,
          file,
          summary.published(),
          summary.deleted(),
          rejected,
          (System.nanoTime() - started) / 1e9);
      out.flush();
      return 0;
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = {
        "The unit's merchant table as the enrich functions see it: the `merchants` topic read to",
        "its end, deletions applied. Prints the count and the first merchants by id, or one",
        "merchant with --merchant."
      })
  static final class Show implements Callable<Integer> {
    @Mixin ClusterOptions cluster;

    @Spec CommandSpec spec;

    @Option(names = "--merchant", description = "Show this merchant only.")
    String merchant;

    @Option(
        names = "--limit",
        defaultValue = "20",
        description = "Merchants to print, by id (${DEFAULT-VALUE}); 0 prints them all.")
    int limit;

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      BusinessNamespace ns = cluster.businessUnit().pipelineNamespace();
      Map<String, MerchantRisk> table;
      try (PulsarClient client = cluster.client()) {
        table = new MerchantRegistry(client, line -> {}).table(ns);
      }
      if (merchant != null) {
        MerchantRisk row = table.get(merchant);
        out.println(
            row != null
                ? line(row)
                : merchant
                    + " is not in the merchant table of "
                    + ns
                    + ": enrich gives it merchant_risk 0, merchant_unknown 1");
        out.flush();
        return 0;
      }
      out.println(
          ns + ": " + table.size() + " merchants in the table (" + Topics.MERCHANTS.in(ns) + ")");
      table.values().stream()
          .limit(limit > 0 ? limit : Long.MAX_VALUE)
          .forEach(r -> out.println("  " + line(r)));
      if (limit > 0 && table.size() > limit) {
        out.println("  ... and " + (table.size() - limit) + " more (--limit 0 prints all)");
      }
      out.flush();
      return 0;
    }

    static String line(MerchantRisk row) {
      return String.format(
          Locale.ROOT,
          "%-16s risk %-6s category %-6s updated %s  source %s",
          row.getMerchantId(),
          row.getRisk(),
          row.getCategory().isEmpty() ? "-" : row.getCategory(),
          Instant.ofEpochMilli(row.getUpdatedAtMs()),
          row.getSource().isEmpty() ? "-" : row.getSource());
    }
  }

  @Command(
      name = "export-synthetic",
      mixinStandardHelpOptions = true,
      description = {
        "Write the synthetic generator's merchant table, the one the models are trained with and",
        "the demo loads, as a CSV file for `merchants load`: a row per merchant in the table, then",
        "a row with an empty risk (a deletion) for each merchant the generator leaves unknown."
      })
  static final class ExportSynthetic implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--file", required = true, description = "CSV file to (over)write.")
    Path file;

    @Override
    public Integer call() throws Exception {
      TransactionGenerator generator =
          new TransactionGenerator(TransactionGenerator.Options.defaults(0));
      MerchantCsv.write(file, generator.merchantTable(), generator.unknownMerchants());
      PrintWriter out = spec.commandLine().getOut();
      out.printf(
          "wrote %d merchants and %d deletions (merchants the generator leaves unknown) to %s%n",
          generator.merchantTable().size(), generator.unknownMerchants().size(), file);
      out.flush();
      return 0;
    }
  }

  private MerchantsCommand() {}
}
