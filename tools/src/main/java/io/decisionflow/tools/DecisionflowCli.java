package io.decisionflow.tools;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code decisionflow} command line. */
@Command(
    name = "decisionflow",
    mixinStandardHelpOptions = true,
    version = "decisionflow 0.1.0",
    description = "Real-time AI decisions with chained Apache Pulsar Functions.",
    subcommands = {
      ProvisionCommand.class,
      DeployCommand.class,
      UndeployCommand.class,
      DemoCommand.class,
      ModelsCommand.class,
      RoutingCommand.class,
      DeadLettersCommand.class,
      DbCommand.class,
      MerchantsCommand.class,
      BenchStateCommand.class,
      BenchEnrichCommand.class,
      GenerateCommand.class,
      BenchmarkCommand.class,
      CommandLine.HelpCommand.class
    })
public final class DecisionflowCli {

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line, with errors printed as one clear line (no stack trace). */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new DecisionflowCli());
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          commandLine.getErr().println("error: " + e.getMessage());
          if (System.getenv("DECISIONFLOW_DEBUG") != null) {
            e.printStackTrace(commandLine.getErr());
          }
          return 1;
        });
    return cli;
  }
}
