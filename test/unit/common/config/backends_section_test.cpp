// The 'backends' list: keys, addresses, weights.
#include <catch2/catch.hpp>

#include "config_texts.hpp"

using namespace dlba;
using namespace dlba::config_test;

TEST_CASE("the backends list loads every back end with its values and defaults", "[config][server]") {
    const Config c = loaded(kServerFileText, "srv.conf");
    REQUIRE(c.backends.size() == 3);
    CHECK(c.backends[0].key == "10");  // integer keys are accepted and kept as text
    CHECK(c.backends[0].weight == 2);
    CHECK(c.backends[0].port == 8081);
    CHECK_FALSE(c.backends[1].enabled);
    CHECK(c.backends[2].port == 80);
    CHECK(c.backends[2].weight == 1);
}

TEST_CASE("backends list errors name file, line and reason", "[config][server]") {
    const std::string& g = kServerFileText;
    check_refusals("srv.conf", {
        {"duplicate backend key", replace(g, "key = \"b\";", "key = \"10\";"), 28, "used twice"},
        {"backend key with a space", replace(g, "key = \"b\";", "key = \"b b\";"), 28, "cookie characters"},
        {"backend key with a semicolon", replace(g, "key = \"b\";", "key = \"b;c\";"), 28, "cookie characters"},
        {"backend bad address", replace(g, "127.0.0.12", "127.0.0"), 28, "not an IPv4 address"},
        {"duplicate backend endpoint", replace(g, "127.0.0.12\"; port = 8081", "127.0.0.11\"; port = 8081"), 28,
         "listed twice"},
    });
}
