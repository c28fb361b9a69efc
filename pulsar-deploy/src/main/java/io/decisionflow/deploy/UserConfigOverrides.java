package io.decisionflow.deploy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * userConfig overrides by function name: the {@code --set FUNCTION.KEY=VALUE} settings of the
 * tools, and how overrides merge into a function's userConfig.
 *
 * <p>A key may be a dotted path into nested settings ({@code fused.enrich.stateFlushDelayMs=200}
 * sets {@code stateFlushDelayMs} inside the fused function's {@code enrich} map), and a nested map
 * merges into the one it overrides key by key, so that one setting changes one value and keeps its
 * siblings.
 */
public final class UserConfigOverrides {

  private static final Pattern WHOLE = Pattern.compile("-?\\d+");
  private static final Pattern DECIMAL = Pattern.compile("-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?");

  private UserConfigOverrides() {}

  /**
   * Parses settings of the form {@code FUNCTION.KEY=VALUE}, a later setting of the same key
   * winning. The value is everything after the first {@code =}: {@code true} and {@code false}
   * become booleans, whole numbers longs, other numbers doubles, anything else stays text.
   *
   * @throws IllegalArgumentException quoting a setting that is not of that form
   */
  public static Map<String, Map<String, Object>> parse(List<String> settings) {
    Map<String, Map<String, Object>> overrides = new LinkedHashMap<>();
    for (String setting : settings) {
      int eq = setting.indexOf('=');
      String[] path = (eq < 0 ? "" : setting.substring(0, eq)).split("\\.", -1);
      if (eq < 0 || path.length < 2 || List.of(path).contains("")) {
        throw new IllegalArgumentException(
            "--set must look like FUNCTION.KEY=VALUE, e.g. decide.threshold=0.6, or for a nested"
                + " setting decide.bands.review=0.15; was '"
                + setting
                + "'");
      }
      Map<String, Object> node = overrides.computeIfAbsent(path[0], f -> new LinkedHashMap<>());
      for (int i = 1; i < path.length - 1; i++) {
        node = child(node, path[i]);
      }
      node.put(path[path.length - 1], typed(setting.substring(eq + 1)));
    }
    return overrides;
  }

  /**
   * {@code base} with {@code overrides} merged in, neither changed: where both hold a map under a
   * key, the maps merge the same way; otherwise the override's value replaces the base's (a list is
   * replaced whole).
   */
  public static Map<String, Object> merge(Map<String, ?> base, Map<String, ?> overrides) {
    Map<String, Object> merged = new LinkedHashMap<>(base);
    overrides.forEach(
        (key, value) -> {
          if (merged.get(key) instanceof Map<?, ?> a && value instanceof Map<?, ?> b) {
            merged.put(key, merge(stringKeys(a), stringKeys(b)));
          } else {
            merged.put(key, value);
          }
        });
    return merged;
  }

  /** Overrides by function, {@code later}'s merged into {@code earlier}'s ({@link #merge}). */
  public static Map<String, Map<String, Object>> mergeByFunction(
      Map<String, ? extends Map<String, Object>> earlier,
      Map<String, ? extends Map<String, Object>> later) {
    Map<String, Map<String, Object>> merged = new LinkedHashMap<>(earlier);
    later.forEach((function, keys) -> merged.merge(function, keys, UserConfigOverrides::merge));
    return merged;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> child(Map<String, Object> node, String key) {
    if (node.get(key) instanceof Map<?, ?> existing) {
      return (Map<String, Object>) existing;
    }
    Map<String, Object> created = new LinkedHashMap<>();
    node.put(key, created);
    return created;
  }

  private static Map<String, Object> stringKeys(Map<?, ?> map) {
    Map<String, Object> copy = new LinkedHashMap<>();
    map.forEach((k, v) -> copy.put(String.valueOf(k), v));
    return copy;
  }

  private static Object typed(String value) {
    if (value.equals("true") || value.equals("false")) {
      return Boolean.parseBoolean(value);
    }
    if (WHOLE.matcher(value).matches()) {
      try {
        return Long.parseLong(value);
      } catch (NumberFormatException e) {
        return value; // beyond a long: kept as written
      }
    }
    return DECIMAL.matcher(value).matches() ? (Object) Double.parseDouble(value) : value;
  }
}
