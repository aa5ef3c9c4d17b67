// The 'metrics' section: dlbad's Prometheus endpoint and the server's response-time histogram switch.
#include <catch2/catch.hpp>

#include "config_texts.hpp"

using namespace dlba;
using namespace dlba::config_test;

namespace {

// From line 19, after kArrayText.
const std::string kMetricsText = kArrayText + R"(metrics = {
  listen = "10.0.0.1:9100";
  histogram = false;
};
)";

}  // namespace

TEST_CASE("metrics: listen and histogram load as written; absent, there is no endpoint and a histogram",
          "[config]") {
    const MetricsConfig written = loaded(kMetricsText, "test.conf").metrics;
    REQUIRE(written.listen);
    CHECK(written.listen->ip == parse_ipv4("10.0.0.1"));
    CHECK(written.listen->port == 9100);
    CHECK_FALSE(written.histogram);
    const MetricsConfig bare = loaded(kArrayText, "test.conf").metrics;
    CHECK_FALSE(bare.listen);
    CHECK(bare.histogram);
    // ":PORT": each node's own eth0 IP.
    const MetricsConfig eth0 = loaded(replace(kMetricsText, "10.0.0.1:9100", ":9200"), "test.conf").metrics;
    REQUIRE(eth0.listen);
    CHECK_FALSE(eth0.listen->ip);
    CHECK(eth0.listen->port == 9200);
    // listen = "": off, as when absent.
    CHECK_FALSE(loaded(replace(kMetricsText, "10.0.0.1:9100", ""), "test.conf").metrics.listen);
}

TEST_CASE("metrics.listen parsing accepts IP:PORT and :PORT only", "[config]") {
    CHECK(parse_metrics_listen("0.0.0.0:1"));
    CHECK(parse_metrics_listen(":65535"));
    for (const char* bad : {"9100", "10.0.0.1", "10.0.0.1:", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:9x",
                            "host:9100", "10.0.0.256:9100", ":", "10.0.0.1:123456", "[::1]:9100", ": 9100"}) {
        INFO(bad);
        CHECK_FALSE(parse_metrics_listen(bad));
    }
}

TEST_CASE("metrics section errors name file, line and reason", "[config]") {
    const std::string& g = kMetricsText;
    check_refusals("test.conf", {
        {"bad address", replace(g, "10.0.0.1:9100", "10.0.0.1:http"), 20, "is not \"IP:PORT\""},
        {"no port", replace(g, "10.0.0.1:9100", "10.0.0.1"), 20, "'metrics.listen'"},
        {"unknown key", replace(g, "histogram = false", "histogramm = false"), 21, "unknown setting 'histogramm'"},
        {"not a bool", replace(g, "histogram = false", "histogram = 3"), 21, "histogram"},
    });
}
