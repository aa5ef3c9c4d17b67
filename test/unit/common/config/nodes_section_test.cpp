// The 'nodes' list: addresses, weights, the node lookup.
#include <catch2/catch.hpp>

#include "config_texts.hpp"

using namespace dlba;
using namespace dlba::config_test;

TEST_CASE("the nodes list loads every node with its values and defaults", "[config]") {
    const Config c = loaded(kArrayText, "test.conf");
    REQUIRE(c.nodes.size() == 2);
    CHECK(c.nodes[0].weight == 2);
    CHECK(c.nodes[0].enabled);
    CHECK_FALSE(c.nodes[1].enabled);
    CHECK(c.node(2)->eth0_mac.str() == "02:77:00:00:01:02");
    CHECK(c.node(3) == nullptr);
}

TEST_CASE("nodes list errors name file, line and reason", "[config]") {
    const std::string& g = kArrayText;
    check_refusals("test.conf", {
        {"bad MAC", replace(g, "02:77:00:00:01:01", "02:77:00:00:01"), 14, "is not a MAC address"},
        {"multicast MAC", replace(g, "02:77:00:00:01:01", "01:00:5e:00:00:01"), 14, "unicast"},
        {"duplicate node number", replace(g, "number = 2;", "number = 1;"), 16, "used twice"},
        {"duplicate IP", replace(g, "eth0_ip = \"10.77.0.12\"", "eth0_ip = \"10.77.0.11\""), 16, "used twice"},
        {"node uses the VIP", replace(g, "eth0_ip = \"10.77.0.12\"", "eth0_ip = \"10.77.0.100\""), 16, "VIP"},
        {"multicast node IP", replace(g, "eth0_ip = \"10.77.0.12\"", "eth0_ip = \"239.1.1.1\""), 16, "unicast host"},
        {"wrong type", replace(g, "weight = 2;", "weight = \"2\";"), 15, "must be an integer"},
        {"missing nodes", g.substr(0, g.find("nodes =")), 0, "missing list 'nodes'"},
        {"node without MAC", replace(g, "eth0_mac = \"02:77:00:00:01:02\"; ", ""), 16, "missing setting 'eth0_mac'"},
    });
}

TEST_CASE("nodes[].direct_ip: optional, loaded, and every VIP listener is bound on it too", "[config]") {
    const Config plain = loaded(kArrayText, "test.conf");
    CHECK(plain.nodes[0].direct_ip == 0);
    const Config c = loaded(replace(kArrayText, "enabled = false; }", "enabled = false; direct_ip = \"10.77.0.42\"; }"),
                            "test.conf");
    CHECK(c.nodes[1].direct_ip == 0x0a4d002a);
    CHECK(c.nodes[0].direct_ip == 0);

    const Config s = loaded(replace(kServerFileText, "sched_ip = \"10.77.0.21\"; }",
                                    "sched_ip = \"10.77.0.21\"; direct_ip = \"10.77.0.41\"; }"),
                            "srv.conf");
    REQUIRE(s.server);
    REQUIRE(s.server->listeners.size() == 3);  // 127.0.0.1:8080, VIP:8443 and its twin on the direct IP
    CHECK(s.server->listeners[2].address == 0x0a4d0029);
    CHECK(s.server->listeners[2].port == s.server->listeners[1].port);
    CHECK(s.server->listeners[2].tls);
    CHECK(s.server->listeners[2].service_index == s.server->listeners[1].service_index);
}

TEST_CASE("nodes[].direct_ip refusals name file, line and reason", "[config]") {
    const auto with = [](const std::string& ip) {
        return replace(kArrayText, "enabled = false; }", "enabled = false; direct_ip = \"" + ip + "\"; }");
    };
    check_refusals("test.conf", {
        {"direct IP is the VIP", with("10.77.0.100"), 17, "is the VIP"},
        {"direct IP is a node's eth0_ip", with("10.77.0.11"), 17, "already used"},
        {"direct IP is a node's sched_ip", with("10.77.0.21"), 17, "already used"},
        {"direct IP is its own sched_ip", with("10.77.0.22"), 17, "already used"},
        {"multicast direct IP", with("224.0.0.9"), 17, "unicast host"},
        {"loopback direct IP", with("127.0.0.2"), 17, "loopback"},
        {"not an address", with("10.77.0"), 17, "not an IPv4 address"},
        {"two nodes, one direct IP",
         replace(replace(kArrayText, "weight = 2; }", "weight = 2; direct_ip = \"10.77.0.42\"; }"),
                 "enabled = false; }", "enabled = false; direct_ip = \"10.77.0.42\"; }"),
         17, "already used"},
    });
}
