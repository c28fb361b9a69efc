package io.decisionflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard in {@code pulsar-deploy/grafana/} is well formed and queries only the
 * series the README's Metrics section documents.
 */
class GrafanaDashboardTest {

  private static final Pattern METRIC = Pattern.compile("decisionflow_[a-z_]+");
  private static final Pattern CODE = Pattern.compile("`([^`]+)`");
  private static final List<String> HISTOGRAM_SUFFIXES = List.of("_bucket", "_sum", "_count");

  private static JsonNode dashboard;
  private static DocumentedSeries documented;

  @BeforeAll
  static void load() throws IOException {
    Path module = ShippedFiles.moduleDir();
    dashboard = new ObjectMapper().readTree(module.resolve("grafana/decisionflow.json").toFile());
    documented = DocumentedSeries.parse(Files.readString(module.resolve("../README.md")));
  }

  @Test
  void isAGrafana10DashboardWithAPrometheusInput() {
    // Given the shipped dashboard

    // Then it is of schema 39 and asks for a Prometheus data source on import
    assertThat(dashboard.path("schemaVersion").asInt()).isEqualTo(39);
    assertThat(dashboard.path("__inputs").findValuesAsText("name")).contains("DS_PROMETHEUS");
    assertThat(dashboard.path("__inputs").findValuesAsText("pluginId")).contains("prometheus");
    assertThat(dashboard.path("templating").path("list").findValuesAsText("name"))
        .contains("tenant", "namespace");
  }

  @Test
  void panelIdsAreUnique() {
    // Given every panel, rows and the panels inside them included
    List<JsonNode> panels = panels();

    // Then no two share an id
    List<Integer> ids = panels.stream().map(p -> p.path("id").asInt(-1)).toList();
    assertThat(ids).doesNotContain(-1).doesNotHaveDuplicates();
  }

  @Test
  void everyPanelHasATitleAPositionAndAQuery() {
    for (JsonNode panel : panels()) {
      String name = "panel " + panel.path("id").asInt();

      // Then every panel has a title and a position
      assertThat(panel.path("title").asText()).as(name + " title").isNotBlank();
      assertThat(panel.path("gridPos").path("w").asInt()).as(name + " gridPos.w").isPositive();
      assertThat(panel.path("gridPos").path("h").asInt()).as(name + " gridPos.h").isPositive();
      if (isRow(panel)) {
        continue;
      }

      // And every panel that is not a row queries something
      List<String> exprs = exprs(panel);
      assertThat(exprs).as(describe(panel) + " targets").isNotEmpty();
      assertThat(exprs).as(describe(panel) + " exprs").allSatisfy(e -> assertThat(e).isNotBlank());
    }
  }

  @Test
  void everySeriesQueriedIsDocumentedInTheReadme() {
    // Given the series the README documents
    List<String> unknown = new ArrayList<>();
    Set<String> queried = new TreeSet<>();

    // When every metric name in every panel's queries is looked up
    for (JsonNode panel : panels()) {
      for (String expr : exprs(panel)) {
        Matcher m = METRIC.matcher(expr);
        while (m.find()) {
          queried.add(m.group());
          if (!documented.covers(m.group())) {
            unknown.add(describe(panel) + ": " + m.group());
          }
        }
      }
    }

    // Then none is unknown
    assertThat(queried).isNotEmpty();
    assertThat(unknown)
        .as("metrics the dashboard queries that the README's Metrics table does not document")
        .isEmpty();
  }

  @Test
  void theReadmeTableIsReadWithItsShorthandsWildcardsAndHistograms() {
    // Given the README's Metrics table, read as the dashboard check reads it

    // Then full names, shorthands of a family, wildcards and histogram suffixes are understood
    assertThat(documented.covers("decisionflow_records_in_total")).isTrue();
    assertThat(documented.covers("decisionflow_score_fallback_rows_total")).isTrue();
    assertThat(documented.covers("decisionflow_route_tables_refused_total")).isTrue();
    assertThat(documented.covers("decisionflow_enrich_merchant_updates_ignored_total")).isTrue();
    assertThat(documented.covers("decisionflow_archive_records_total")).isTrue();
    assertThat(documented.covers("decisionflow_jdbc_pending_records")).isTrue();
    assertThat(documented.covers("decisionflow_enrich_state_cards_cached")).isTrue();
    assertThat(documented.covers("decisionflow_stage_latency_seconds_bucket")).isTrue();
    assertThat(documented.covers("decisionflow_score_batch_size_sum")).isTrue();

    // And what it does not document is not covered
    assertThat(documented.covers("decisionflow_score_unknown_total")).isFalse();
    assertThat(documented.covers("decisionflow_records_in_total_bucket")).isFalse();
    assertThat(documented.covers("decisionflow_enrich_stat")).isFalse();
  }

  private static boolean isRow(JsonNode panel) {
    return "row".equals(panel.path("type").asText());
  }

  private static String describe(JsonNode panel) {
    return "panel '" + panel.path("title").asText() + "' (id " + panel.path("id").asInt() + ")";
  }

  /** Every panel of the dashboard, with the panels of collapsed rows. */
  private static List<JsonNode> panels() {
    List<JsonNode> all = new ArrayList<>();
    for (JsonNode panel : dashboard.path("panels")) {
      all.add(panel);
      panel.path("panels").forEach(all::add);
    }
    assertThat(all).as("panels").isNotEmpty();
    return all;
  }

  private static List<String> exprs(JsonNode panel) {
    List<String> exprs = new ArrayList<>();
    panel.path("targets").forEach(t -> exprs.add(t.path("expr").asText("")));
    return exprs;
  }

  /**
   * The series the table of the README's "## Metrics" section documents: its first column lists
   * full names ({@code `decisionflow_score_model_rows_total`}), shorthands of the first name's
   * family ({@code `_fallback_rows_total`}), and wildcards ({@code `decisionflow_enrich_state_*`});
   * a series whose meaning starts with "histogram" also has {@code _bucket}, {@code _sum} and
   * {@code _count}.
   */
  record DocumentedSeries(Set<String> names, Set<String> histograms, Set<String> wildcards) {

    static DocumentedSeries parse(String readme) {
      int start = readme.indexOf("\n## Metrics");
      assertThat(start).as("README has a ## Metrics section").isNotNegative();
      int end = readme.indexOf("\n## ", start + 1);
      String section = readme.substring(start, end < 0 ? readme.length() : end);
      Set<String> names = new HashSet<>();
      Set<String> histograms = new HashSet<>();
      Set<String> wildcards = new HashSet<>();
      for (String line : section.split("\n")) {
        if (!line.startsWith("| `decisionflow_")) {
          continue;
        }
        String[] cells = line.split("\\|");
        String series = cells[1];
        boolean histogram = cells.length > 3 && cells[3].trim().startsWith("histogram");
        String first = null;
        Matcher m = CODE.matcher(series);
        while (m.find()) {
          String name = m.group(1).trim();
          Set<String> expanded = new HashSet<>();
          if (name.startsWith("decisionflow_")) {
            first = first == null ? name : first;
            if (name.endsWith("*")) {
              wildcards.add(name.substring(0, name.length() - 1));
              continue;
            }
            expanded.add(name);
          } else if (name.startsWith("_") && first != null) {
            expanded.addAll(expand(first, name));
          } else {
            throw new AssertionError("cannot read " + name + " in README line: " + line);
          }
          names.addAll(expanded);
          if (histogram) {
            histograms.addAll(expanded);
          }
        }
      }
      assertThat(names).as("series documented in the README").isNotEmpty();
      return new DocumentedSeries(names, histograms, wildcards);
    }

    /**
     * A shorthand {@code _x} after {@code first} is the family prefix of {@code first} followed by
     * {@code _x}. The README does not say how long that prefix is ({@code
     * decisionflow_score_model_rows_total, _fallback_rows_total} keeps {@code decisionflow_score};
     * {@code decisionflow_route_tables_applied_total, _refused_total} keeps {@code
     * decisionflow_route_tables}), so every prefix of {@code first} of at least two words counts.
     */
    static Set<String> expand(String first, String shorthand) {
      String base = first.endsWith("*") ? first.substring(0, first.length() - 1) : first;
      String[] words = base.split("_");
      Set<String> names = new HashSet<>();
      StringBuilder prefix = new StringBuilder(words[0]);
      for (int i = 1; i < words.length - 1; i++) {
        prefix.append('_').append(words[i]);
        names.add(prefix + shorthand);
      }
      return names;
    }

    boolean covers(String metric) {
      if (names.contains(metric) || wildcards.stream().anyMatch(metric::startsWith)) {
        return true;
      }
      for (String suffix : HISTOGRAM_SUFFIXES) {
        if (metric.endsWith(suffix)
            && histograms.contains(metric.substring(0, metric.length() - suffix.length()))) {
          return true;
        }
      }
      return false;
    }
  }
}
