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
