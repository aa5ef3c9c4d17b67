// The 'tls' section: certificate, key, session-ticket keys.
#include <catch2/catch.hpp>

#include "config_texts.hpp"

using namespace dlba;
using namespace dlba::config_test;

TEST_CASE("the tls section loads its files, their lines and the ticket keys", "[config][server]") {
    const Config c = loaded(kServerFileText, "srv.conf");
    REQUIRE(c.tls);
    CHECK(c.tls->certificate == "/etc/dlba/server.pem");
    CHECK(c.tls->certificate_line == 19);
    REQUIRE(c.tls->ticket_keys.size() == 2);
    CHECK(c.tls->ticket_keys[0].name[0] == 0x00);
    CHECK(c.tls->ticket_keys[0].name[15] == 0x0f);
    CHECK(c.tls->ticket_keys[1].name[0] == 0xff);
    CHECK(c.tls->ticket_keys[0].hmac[0] == 0x00);
    CHECK(c.tls->ticket_keys[0].hmac[31] == 0x0f);
    CHECK(c.tls->ticket_keys[0].aes[0] == 0x00);
    CHECK(c.tls->ticket_keys[0].aes[31] == 0x0f);
}

TEST_CASE("tls section errors name file, line and reason", "[config][server]") {
    const std::string& g = kServerFileText;
    check_refusals("srv.conf", {
        {"ticket key too short", replace(g, "\"ff01", "\"01"), 24, "160 hex digits"},
        {"ticket key not hex", replace(g, "\"ff01", "\"zz01"), 24, "160 hex digits"},
        {"ticket key names repeat", replace(g, "\"ff01", "\"0001"), 24, "repeats the name"},
        {"tls without key", replace(g, "key = \"/etc/dlba/server.key\";", ""), 18, "missing setting 'key'"},
    });
}
