// The 'array' section: name, VIP, ports.
#include <catch2/catch.hpp>

#include "config_texts.hpp"

using namespace dlba;
using namespace dlba::config_test;

TEST_CASE("the array section loads its name, VIP and ports", "[config]") {
    const Config c = loaded(kArrayText, "test.conf");
    CHECK(c.name == "test");
    CHECK(c.vip == 0x0a4d0064);
    CHECK(c.tcp_ports == std::vector<uint16_t>{80, 443});
    CHECK(c.udp_ports.empty());
}

TEST_CASE("array section errors name file, line and reason", "[config]") {
    check_refusals("test.conf", {
        {"bad VIP", replace(kArrayText, "10.77.0.100", "10.77.0.300"), 4, "not an IPv4 address"},
        {"zero VIP", replace(kArrayText, "10.77.0.100", "0.0.0.0"), 4, "must be a unicast host address"},
        {"VIP in 0/8", replace(kArrayText, "10.77.0.100", "0.1.2.3"), 4, "must be a unicast host address"},
        {"multicast VIP", replace(kArrayText, "10.77.0.100", "224.0.0.1"), 4, "must be a unicast host address"},
        {"broadcast VIP", replace(kArrayText, "10.77.0.100", "255.255.255.255"), 4, "must be a unicast host"},
        {"port out of range", replace(kArrayText, "[80, 443]", "[80, 70000]"), 5, "out of range"},
        {"duplicate port", replace(kArrayText, "[80, 443]", "[80, 80]"), 5, "appears twice"},
    });
}
