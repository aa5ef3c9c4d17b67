// The 'failover' section: the node daemon's ports and timings.
#include <catch2/catch.hpp>

#include "config_texts.hpp"

using namespace dlba;
using namespace dlba::config_test;

namespace {

// From line 19, after kArrayText.
const std::string kFailoverText = kArrayText + R"(failover = {
  sync_port = 7201;
  heartbeat_interval_ms = 20;
  dead_after_ms = 100;
  sweep_retries = 5;
  monitor_socket = "/tmp/dlbad-test.sock";
};
)";

}  // namespace

TEST_CASE("each failover setting loads as written, and its default applies when it is absent", "[config]") {
    const FailoverConfig written = loaded(kFailoverText, "test.conf").failover;
    const FailoverConfig bare = loaded(kArrayText, "test.conf").failover;
    // The value kFailoverText gives it (its default where it writes none), then the default.
    check_settings(written, bare, {
        {"sync_port", [](const FailoverConfig& f) { return std::to_string(f.sync_port); }, "7201", "7101"},
        {"sync_interval_ms", [](const FailoverConfig& f) { return std::to_string(f.sync_interval_ms); }, "100", "100"},
        {"journal_size", [](const FailoverConfig& f) { return std::to_string(f.journal_size); }, "65536", "65536"},
        {"heartbeat_port", [](const FailoverConfig& f) { return std::to_string(f.heartbeat_port); }, "7102", "7102"},
        {"heartbeat_interval_ms", [](const FailoverConfig& f) { return std::to_string(f.heartbeat_interval_ms); },
         "20", "50"},
        {"dead_after_ms", [](const FailoverConfig& f) { return std::to_string(f.dead_after_ms); }, "100", "250"},
        {"probe_misses", [](const FailoverConfig& f) { return std::to_string(f.probe_misses); }, "4", "4"},
        {"status_port", [](const FailoverConfig& f) { return std::to_string(f.status_port); }, "7103", "7103"},
        {"config_port", [](const FailoverConfig& f) { return std::to_string(f.config_port); }, "7104", "7104"},
        {"sweep_delay_ms", [](const FailoverConfig& f) { return std::to_string(f.sweep_delay_ms); }, "1000", "1000"},
        {"sweep_timeout_ms", [](const FailoverConfig& f) { return std::to_string(f.sweep_timeout_ms); }, "300", "300"},
        {"sweep_retries", [](const FailoverConfig& f) { return std::to_string(f.sweep_retries); }, "5", "2"},
        {"monitor_socket", [](const FailoverConfig& f) { return f.monitor_socket; }, "/tmp/dlbad-test.sock",
         "/run/dlba/dlbad.sock"},
    });
}

TEST_CASE("failover section errors name file, line and reason", "[config]") {
    const std::string& g = kFailoverText;
    check_refusals("test.conf", {
        {"unknown key", replace(g, "sweep_retries = 5;", "sweep_retrys = 5;"), 23, "unknown setting 'sweep_retrys'"},
        {"interval out of range", replace(g, "heartbeat_interval_ms = 20", "heartbeat_interval_ms = 1"), 21,
         "out of range"},
        {"dead before a heartbeat is due", replace(g, "dead_after_ms = 100", "dead_after_ms = 20"), 19,
         "must be longer than heartbeat_interval_ms"},
        {"ports that collide", replace(g, "sync_port = 7201", "sync_port = 7103"), 19, "must differ"},
    });
}

namespace {

const std::string kKeyA = "6b1f0c2e9d4a7f3851c0e2b9a4d7f6c31e8b0a5d2f9c4e7b1a3d6f0c8e2b5a94";
const std::string kKeyB = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

std::string with_keys(const std::string& list) {
    return kArrayText + "failover = {\n  peer_keys = " + list + ";\n  insecure = false;\n};\n";
}

}  // namespace

TEST_CASE("peer keys load in order: the first signs, all verify", "[config][auth]") {
    const FailoverConfig f = loaded(with_keys("[\"" + kKeyA + "\", \"" + kKeyB + "\"]"), "test.conf").failover;
    REQUIRE(f.peer_keys.all().size() == 2);
    CHECK(auth::format_key(f.peer_keys.signing()) == kKeyA);
    CHECK(auth::format_key(f.peer_keys.all()[1]) == kKeyB);
    CHECK(f.auth_problem().empty());
    CHECK(f.ring() == f.peer_keys);
}

TEST_CASE("without peer keys the daemons refuse to start unless insecure is set explicitly", "[config][auth]") {
    const FailoverConfig bare = loaded(kArrayText, "test.conf").failover;
    CHECK(bare.peer_keys.empty());
    CHECK(bare.auth_problem().find("failover.insecure = true") != std::string::npos);
    const FailoverConfig insecure =
        loaded(kArrayText + "failover = {\n  insecure = true;\n};\n", "test.conf").failover;
    CHECK(insecure.auth_problem().empty());
    CHECK(insecure.ring() == auth::insecure_ring());
}

TEST_CASE("malformed peer keys are refused at their line", "[config][auth]") {
    check_refusals("test.conf", {
        {"short key", with_keys("[\"" + kKeyA.substr(0, 62) + "\"]"), 20, "64 hex digits"},
        {"not hex", with_keys("[\"" + kKeyA.substr(0, 63) + "g\"]"), 20, "only hex digits"},
        {"one repeated byte", with_keys("[\"" + std::string(64, 'a') + "\"]"), 20, "must be random"},
        {"repeated key", with_keys("[\"" + kKeyA + "\", \"" + kKeyA + "\"]"), 20, "repeats an earlier key"},
        {"not a list", with_keys("\"" + kKeyA + "\""), 20, "must be a list"},
        {"empty list", with_keys("[]"), 20, "is empty"},
        {"a number", with_keys("[1]"), 20, "non-string"},
    });
}
