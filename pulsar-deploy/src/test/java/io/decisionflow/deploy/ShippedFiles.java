package io.decisionflow.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.pulsar.common.functions.FunctionConfig;

/** The files this module ships, and temporary projects built from them for tests. */
final class ShippedFiles {

  private ShippedFiles() {}

  /** The pulsar-deploy module directory (tests run in it; from the repository root as well). */
  static Path moduleDir() {
    Path here = Path.of("").toAbsolutePath();
    for (Path candidate : List.of(here, here.resolve("pulsar-deploy"))) {
      if (Files.isDirectory(candidate.resolve("functions"))
          && Files.isDirectory(candidate.resolve("business-units"))) {
        return candidate;
      }
    }
    throw new IllegalStateException("cannot find pulsar-deploy/functions from " + here);
  }

  static Path functionsDir() {
    return moduleDir().resolve("functions");
  }

  static Path sinksDir() {
    return moduleDir().resolve("sinks");
  }

  /** The shipped sink config files, by name. */
  static List<Path> sinkFiles() {
    return yamlFiles(sinksDir());
  }

  static Path businessUnitsDir() {
    return moduleDir().resolve("business-units");
  }

  /** The shipped function config files, by name. */
  static List<Path> functionFiles() {
    return yamlFiles(functionsDir());
  }

  /** The shipped business-unit files, by name. */
  static List<Path> businessUnitFiles() {
    return yamlFiles(businessUnitsDir());
  }

  /** The shipped function config named {@code name} (e.g. {@code decide}). */
  static FunctionConfig function(String name) {
    return FunctionDeployer.read(functionsDir().resolve(name + ".yaml"));
  }

  /** The shipped business unit named {@code name} (e.g. {@code lending}). */
  static BusinessUnit unit(String name) {
    return BusinessUnit.load(businessUnitsDir(), name);
  }

  /**
   * Makes {@code root} a project as {@link Pipeline} expects it: the shipped function configs and
   * business units and sink configs under {@code pulsar-deploy/}, and a small fake file for every
   * jar and connector archive they name.
   *
   * @return {@code root}
   */
  static Path project(Path root) {
    try {
      copyAll(functionsDir(), root.resolve("pulsar-deploy/functions"));
      for (String topology : List.of("functions-naive", "functions-fused")) {
        copyAll(
            functionsDir().resolveSibling(topology),
            root.resolve("pulsar-deploy").resolve(topology));
      }
      copyAll(businessUnitsDir(), root.resolve("pulsar-deploy/business-units"));
      Set<String> jars = new LinkedHashSet<>();
      for (Path file : functionFiles()) {
        jars.add(FunctionDeployer.read(file).getJar());
      }
      for (Path file : sinkFiles()) {
        jars.add(SinkDeployer.read(file).getArchive());
      }
      for (String jar : jars) {
        writeFakeJar(root.resolve(jar), "fake jar " + jar);
      }
      copyAll(sinksDir(), root.resolve("pulsar-deploy/sinks"));
      return root;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes a small file standing in for a jar; its bytes are {@code content}. */
  static byte[] writeFakeJar(Path jar, String content) throws IOException {
    byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
    Files.createDirectories(jar.getParent());
    Files.write(jar, bytes);
    return bytes;
  }

  private static void copyAll(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    for (Path file : yamlFiles(from)) {
      Files.copy(file, to.resolve(file.getFileName()));
    }
  }

  private static List<Path> yamlFiles(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
