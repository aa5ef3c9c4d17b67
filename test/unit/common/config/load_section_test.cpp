// 'failover.load': the load in the heartbeat and the two-threshold steering.
#include <catch2/catch.hpp>

#include "config_texts.hpp"

using namespace dlba;
using namespace dlba::config_test;

namespace {

// From line 19, after kArrayText.
const std::string kLoadText = kArrayText + R"(failover = {
  load = {
    source = "cpu";
    high_pct = 60;
    margin_pct = 15;
    hysteresis_pct = 5;
  };
};
)";

}  // namespace

TEST_CASE("failover.load loads as written; absent, nothing is steered", "[config]") {
    const LoadConfig written = loaded(kLoadText, "test.conf").failover.load;
    CHECK(written.enabled);
    CHECK(written.source == LoadSource::cpu);
    CHECK(written.rule.high_pct == 60);
    CHECK(written.rule.margin_pct == 15);
    CHECK(written.rule.hysteresis_pct == 5);
    const LoadConfig bare = loaded(kArrayText, "test.conf").failover.load;
    CHECK_FALSE(bare.enabled);
    const LoadConfig defaults =
        loaded(kArrayText + "failover = { load = { }; };\n", "test.conf").failover.load;
    CHECK(defaults.enabled);
    CHECK(defaults.source == LoadSource::connections);
    CHECK(defaults.rule.high_pct == 50);
    CHECK(defaults.rule.margin_pct == 20);
    CHECK(defaults.rule.hysteresis_pct == 10);
}

TEST_CASE("failover.load errors name file, line and reason", "[config]") {
    const std::string& g = kLoadText;
    check_refusals("test.conf", {
        {"unknown source", replace(g, "\"cpu\"", "\"memory\""), 21, "is not one of \"connections\", \"cpu\""},
        {"unknown key", replace(g, "margin_pct = 15;", "margn_pct = 15;"), 23, "unknown setting 'margn_pct'"},
        {"threshold out of range", replace(g, "high_pct = 60", "high_pct = 100"), 22, "out of range"},
        {"zero margin", replace(g, "margin_pct = 15", "margin_pct = 0"), 23, "out of range"},
        {"hysteresis not below the threshold", replace(g, "hysteresis_pct = 5", "hysteresis_pct = 60"), 24,
         "must be below high_pct"},
    });
}
