// The route matcher (policy/routes.hpp): first match wins, hosts case-insensitive without port, prefixes raw.
#include <catch2/catch.hpp>

#include <vector>

#include "policy/routes.hpp"

using namespace dlba;
using namespace dlba::server;

namespace {

RouteConfig route(std::string host_lower, std::string prefix, size_t service) {
    RouteConfig r;
    r.host = r.host_lower = std::move(host_lower);
    r.path_prefix = std::move(prefix);
    r.service_index = service;
    return r;
}

const std::vector<RouteConfig> kRoutes{route("bank.example", "/banking/", 1), route("", "/securities/", 2),
                                       route("static.example", "", 3)};

}  // namespace

TEST_CASE("the first route whose host and prefix match takes the request", "[routes]") {
    CHECK(match_route(kRoutes, "bank.example", "/banking/a") == 0u);
    CHECK(match_route(kRoutes, "bank.example", "/securities/b") == 1u);
    CHECK(match_route(kRoutes, "other.example", "/securities/b") == 1u);
    CHECK(match_route(kRoutes, "static.example", "/banking/a") == 2u);
    CHECK(match_route(kRoutes, "static.example", "/x") == 2u);
    // Nothing matches: the listener's own service.
    CHECK_FALSE(match_route(kRoutes, "bank.example", "/x").has_value());
    CHECK_FALSE(match_route(kRoutes, "other.example", "/banking/a").has_value());
    CHECK_FALSE(match_route({}, "bank.example", "/banking/a").has_value());
}

TEST_CASE("hosts compare case-insensitively and without the port", "[routes]") {
    CHECK(match_route(kRoutes, "BANK.Example", "/banking/a") == 0u);
    CHECK(match_route(kRoutes, "bank.example:8080", "/banking/a") == 0u);
    CHECK(match_route(kRoutes, "Bank.EXAMPLE:80", "/banking/a") == 0u);
    CHECK_FALSE(match_route(kRoutes, "bank.example.org", "/banking/a").has_value());
    CHECK_FALSE(match_route(kRoutes, "", "/banking/a").has_value());
    CHECK(host_without_port("[2001:db8::1]:443") == "[2001:db8::1]");
    CHECK(host_without_port("[2001:db8::1]") == "[2001:db8::1]");
}

TEST_CASE("prefixes compare on the raw path: case-sensitive, undecoded", "[routes]") {
    CHECK_FALSE(match_route(kRoutes, "x", "/Securities/b").has_value());
    CHECK_FALSE(match_route(kRoutes, "x", "/%73ecurities/b").has_value());  // %73 is 's': not decoded
    CHECK_FALSE(match_route(kRoutes, "x", "/securities").has_value());      // shorter than the prefix
    CHECK(match_route(kRoutes, "x", "/securities/") == 1u);
    CHECK(match_route(kRoutes, "x", "/securities/?q=1") == 1u);
    // Absolute-form targets: the path after the authority.
    CHECK(match_route(kRoutes, "x", "http://x:80/securities/b") == 1u);
    CHECK_FALSE(match_route(kRoutes, "x", "http://x/").has_value());
    CHECK_FALSE(match_route(kRoutes, "x", "*").has_value());
    CHECK(raw_path("http://h") == "");
    CHECK(raw_path("/a?b") == "/a?b");
}
