#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <variant>

#include <unistd.h>

#include "config.hpp"

using namespace dlba;

namespace {

const char* kGood = R"(# a small valid array
array = {
  name = "test";
  vip = "10.77.0.100";
  tcp_ports = [80, 443];
};
scheduler = {
  table_size = 4096;
  hash = "seed_sum";
  bucket_idle_timeout = 30;
  idle_poll = { spin_polls = 10; sleep_min_us = 5; sleep_max_us = 500; };
};
nodes = (
  { number = 1; eth0_mac = "02:77:00:00:01:01"; eth0_ip = "10.77.0.11";
    sched_mac = "02:77:00:00:02:01"; sched_ip = "10.77.0.21"; weight = 2; },
  { number = 2; eth0_mac = "02:77:00:00:01:02"; eth0_ip = "10.77.0.12";
    sched_mac = "02:77:00:00:02:02"; sched_ip = "10.77.0.22"; enabled = false; }
);
)";

ConfigError refused(const std::string& text) {
    ConfigResult r = parse_config(text, "test.conf");
    REQUIRE(std::holds_alternative<ConfigError>(r));
    return std::get<ConfigError>(r);
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
    const size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("a valid configuration loads with every value and default", "[config]") {
    ConfigResult r = parse_config(kGood, "test.conf");
    REQUIRE(std::holds_alternative<ArrayConfig>(r));
    const ArrayConfig& c = std::get<ArrayConfig>(r);
    CHECK(c.name == "test");
    CHECK(c.vip == 0x0a4d0064);
    CHECK(c.tcp_ports == std::vector<uint16_t>{80, 443});
    CHECK(c.udp_ports.empty());
    CHECK(c.scheduler.table_size == 4096);
    CHECK(c.scheduler.hash == HashKind::seed_sum);
    CHECK(c.scheduler.bucket_idle_timeout_s == 30);
    CHECK(c.scheduler.idle_poll.sleep_max_us == 500);
    CHECK(c.scheduler.garp_count == 3);  // default
    REQUIRE(c.nodes.size() == 2);
    CHECK(c.nodes[0].weight == 2);
    CHECK(c.nodes[0].enabled);
    CHECK_FALSE(c.nodes[1].enabled);
    CHECK(c.node(2)->eth0_mac.str() == "02:77:00:00:01:02");
    CHECK(c.node(3) == nullptr);
}

TEST_CASE("configuration errors name file, line and reason", "[config]") {
    struct Case {
        const char* what;
        std::string text;
        int line;
        const char* reason_part;
    };
    const std::string g = kGood;
    const Case cases[] = {
        {"syntax error", replace(g, "vip = \"", "vip = = \""), 4, "syntax error"},
        {"unknown key", replace(g, "hash = \"seed_sum\";", "hsah = \"seed_sum\";"), 9, "unknown setting 'hsah'"},
        {"bad VIP", replace(g, "10.77.0.100", "10.77.0.300"), 4, "not an IPv4 address"},
        {"bad hash name", replace(g, "\"seed_sum\"", "\"crc\""), 9, "is not one of"},
        {"table too small", replace(g, "table_size = 4096", "table_size = 100"), 8, "out of range"},
        {"port out of range", replace(g, "[80, 443]", "[80, 70000]"), 5, "out of range"},
        {"duplicate port", replace(g, "[80, 443]", "[80, 80]"), 5, "appears twice"},
        {"bad MAC", replace(g, "02:77:00:00:01:01", "02:77:00:00:01"), 14, "is not a MAC address"},
        {"multicast MAC", replace(g, "02:77:00:00:01:01", "01:00:5e:00:00:01"), 14, "unicast"},
        {"duplicate node number", replace(g, "number = 2;", "number = 1;"), 16, "used twice"},
        {"duplicate IP", replace(g, "eth0_ip = \"10.77.0.12\"", "eth0_ip = \"10.77.0.11\""), 16, "used twice"},
        {"node uses the VIP", replace(g, "eth0_ip = \"10.77.0.12\"", "eth0_ip = \"10.77.0.100\""), 16, "VIP"},
        {"sleep bounds inverted", replace(g, "sleep_max_us = 500", "sleep_max_us = 1"), 11, "below sleep_min_us"},
        {"wrong type", replace(g, "weight = 2;", "weight = \"2\";"), 15, "must be an integer"},
        {"missing nodes", g.substr(0, g.find("nodes =")), 0, "missing list 'nodes'"},
        {"node without MAC", replace(g, "eth0_mac = \"02:77:00:00:01:02\"; ", ""), 16, "missing setting 'eth0_mac'"},
    };
    for (const Case& c : cases) {
        INFO(c.what);
        const ConfigError e = refused(c.text);
        INFO(e.str());
        CHECK(e.file == "test.conf");
        if (c.line > 0) CHECK(e.line == c.line);
        CHECK(e.reason.find(c.reason_part) != std::string::npos);
        CHECK(e.str().rfind("test.conf:", 0) == 0);
    }
}

TEST_CASE("a missing file is refused with its name", "[config]") {
    ConfigResult r = load_config("/nonexistent/dlba.conf");
    REQUIRE(std::holds_alternative<ConfigError>(r));
    CHECK(std::get<ConfigError>(r).str() == "/nonexistent/dlba.conf: cannot read the file");
}

TEST_CASE("errors in a file on disk carry that file's path and line", "[config]") {
    char path[] = "/tmp/dlba-config-test-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    {
        std::ofstream out(path);
        out << replace(kGood, "weight = 2;", "weight = -1;");
    }
    ConfigResult r = load_config(path);
    std::remove(path);
    REQUIRE(std::holds_alternative<ConfigError>(r));
    CHECK(std::get<ConfigError>(r).file == path);
    CHECK(std::get<ConfigError>(r).line == 15);
}

TEST_CASE("the shipped example configuration is valid", "[config]") {
    ConfigResult r = load_config(DLBA_SOURCE_ROOT "/conf/dlba.conf");
    if (auto* e = std::get_if<ConfigError>(&r)) FAIL(e->str());
    CHECK(std::get<ArrayConfig>(r).nodes.size() == 3);
}

TEST_CASE("IPv4 and MAC parsing are strict", "[config]") {
    CHECK(parse_ipv4("10.0.0.1") == 0x0a000001u);
    CHECK_FALSE(parse_ipv4("10.0.0"));
    CHECK_FALSE(parse_ipv4("10.0.0.1.2"));
    CHECK_FALSE(parse_ipv4("10.0.0.01"));
    CHECK_FALSE(parse_ipv4("10.0.0.256"));
    CHECK_FALSE(parse_ipv4(" 10.0.0.1"));
    CHECK(format_ipv4(0xc0a80001) == "192.168.0.1");
    CHECK(MacAddr::parse("02:AB:cd:00:00:01")->str() == "02:ab:cd:00:00:01");
    CHECK_FALSE(MacAddr::parse("02-ab-cd-00-00-01"));
    CHECK_FALSE(MacAddr::parse("02:ab:cd:00:00:0g"));
}
