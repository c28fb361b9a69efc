package io.decisionflow.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the project's scripts for people ({@code pulsar-deploy/*.sh}) from the tests. */
final class LocalScripts {

  private LocalScripts() {}

  /**
   * Runs {@code pulsar-deploy/<script>} with {@code args} and {@code env} added to this process's
   * environment, its output shown; waits up to 10 minutes.
   *
   * @return its exit code
   */
  static int run(Path project, String script, Map<String, String> env, String... args)
      throws IOException, InterruptedException {
    Process process = start(project, script, env, args).inheritIO().start();
    return await(process, script, args);
  }

  /**
   * Runs the script as {@link #run} does and returns what it printed on standard output.
   *
   * @throws IllegalStateException if it fails
   */
  static String output(Path project, String script, Map<String, String> env, String... args)
      throws IOException, InterruptedException {
    Process process =
        start(project, script, env, args).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    process.getInputStream().transferTo(out);
    if (await(process, script, args) != 0) {
      throw new IllegalStateException(script + " " + String.join(" ", args) + " failed");
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static ProcessBuilder start(
      Path project, String script, Map<String, String> env, String... args) {
    List<String> command = new ArrayList<>();
    command.add("bash");
    command.add(project.resolve("pulsar-deploy").resolve(script).toString());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(project.toFile());
    pb.environment().putAll(env);
    return pb;
  }

  private static int await(Process process, String script, String... args)
      throws InterruptedException {
    if (!process.waitFor(10, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new IllegalStateException(
          script + " " + String.join(" ", args) + " did not finish in 10 min");
    }
    return process.exitValue();
  }
}
