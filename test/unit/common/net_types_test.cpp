// IPv4 and MAC text forms, as the configuration and the CLI write them.
#include <catch2/catch.hpp>

#include "net_types.hpp"

using namespace dlba;

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
