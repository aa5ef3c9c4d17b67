// The Prometheus text exposition writer: escaping, value spelling, families grouped with HELP and TYPE.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "metrics/prom_text.hpp"

using namespace dlba::metrics;

TEST_CASE("label values escape backslash, double quote and line feed, nothing else", "[metrics]") {
    CHECK(escape_label_value("web1") == "web1");
    CHECK(escape_label_value("a\\b") == "a\\\\b");
    CHECK(escape_label_value("say \"hi\"") == "say \\\"hi\\\"");
    CHECK(escape_label_value("two\nlines") == "two\\nlines");
    CHECK(escape_label_value("tab\tand{}=,") == "tab\tand{}=,");
    // HELP escapes backslash and line feed, but a double quote stays.
    CHECK(escape_help("a \"b\" \\ c\nd") == "a \"b\" \\\\ c\\nd");
}

TEST_CASE("values: integers exact, reals shortest round trip, NaN and infinities by name", "[metrics]") {
    CHECK(format_value(0) == "0");
    CHECK(format_value(-0.0) == "0");
    CHECK(format_value(42) == "42");
    CHECK(format_value(0.0005) == "0.0005");
    CHECK(format_value(2.5) == "2.5");
    CHECK(format_value(0.1 + 0.2) == "0.30000000000000004");
    CHECK(format_value(std::nan("")) == "NaN");
    CHECK(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
    CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
}

TEST_CASE("metric and label names follow the format's grammar", "[metrics]") {
    CHECK(valid_metric_name("dlba_scheduler_rx_packets_total"));
    CHECK(valid_metric_name("a:b"));
    CHECK_FALSE(valid_metric_name("1abc"));
    CHECK_FALSE(valid_metric_name("a-b"));
    CHECK_FALSE(valid_metric_name(""));
    CHECK(valid_label_name("code_class"));
    CHECK_FALSE(valid_label_name("a:b"));
    CHECK_FALSE(valid_label_name("__name__"));
}

TEST_CASE("samples are grouped under their family's HELP and TYPE, in declaration order", "[metrics]") {
    Exposition e;
    e.family("dlba_b_total", Type::counter, "B things.");
    e.family("dlba_a", Type::gauge, "A\nstate.");
    e.family("dlba_b_total", Type::gauge, "declared twice: the first stays");
    e.add("dlba_a", {{"node", "1"}}, 1);
    e.add("dlba_b_total", {}, 7);
    e.add_real("dlba_a", {{"node", "2"}, {"x", "q\""}}, 0.5);
    e.add("dlba_undeclared", {}, 3);  // ignored
    CHECK(e.families() == 2);
    CHECK(e.text() ==
          "# HELP dlba_b_total B things.\n"
          "# TYPE dlba_b_total counter\n"
          "dlba_b_total 7\n"
          "# HELP dlba_a A\\nstate.\n"
          "# TYPE dlba_a gauge\n"
          "dlba_a{node=\"1\"} 1\n"
          "dlba_a{node=\"2\",x=\"q\\\"\"} 0.5\n");
}

TEST_CASE("a histogram writes cumulative le buckets, +Inf equal to _count, and _sum", "[metrics]") {
    Exposition e;
    e.family("dlba_backend_response_seconds", Type::histogram, "Response time.");
    const double bounds[] = {0.001, 0.01};
    const uint64_t cumulative[] = {3, 5, 6};
    e.add_histogram("dlba_backend_response_seconds", {{"backend", "web1"}}, bounds, cumulative, 0.25);
    // A mismatched shape is refused rather than written wrong.
    const uint64_t short_counts[] = {1, 2};
    e.add_histogram("dlba_backend_response_seconds", {{"backend", "bad"}}, bounds, short_counts, 1);
    CHECK(e.text() ==
          "# HELP dlba_backend_response_seconds Response time.\n"
          "# TYPE dlba_backend_response_seconds histogram\n"
          "dlba_backend_response_seconds_bucket{backend=\"web1\",le=\"0.001\"} 3\n"
          "dlba_backend_response_seconds_bucket{backend=\"web1\",le=\"0.01\"} 5\n"
          "dlba_backend_response_seconds_bucket{backend=\"web1\",le=\"+Inf\"} 6\n"
          "dlba_backend_response_seconds_sum{backend=\"web1\"} 0.25\n"
          "dlba_backend_response_seconds_count{backend=\"web1\"} 6\n");
}
