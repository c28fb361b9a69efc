package io.decisionflow.functions.probe;

import java.util.LinkedHashMap;
import java.util.Map;

/** The {@code key=value key=value} lines a probe function takes as commands and gives back. */
public final class ProbeLines {

  private ProbeLines() {}

  /** {@code "a=1 b=2"} as a map, in order; words without {@code =} are ignored. */
  public static Map<String, String> parse(String line) {
    Map<String, String> values = new LinkedHashMap<>();
    for (String part : line.trim().split("\\s+")) {
      int eq = part.indexOf('=');
      if (eq > 0) {
        values.put(part.substring(0, eq), part.substring(eq + 1));
      }
    }
    return values;
  }
}
