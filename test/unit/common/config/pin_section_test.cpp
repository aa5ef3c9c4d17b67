// Stateful-URI pinning settings: services[].pin (config/pin_section.hpp, checks in config/services_section.cpp).
#include <catch2/catch.hpp>

#include "config_texts.hpp"

using namespace dlba;
using namespace dlba::config_test;

namespace {

// Lines 1-3: the array; back ends on line 4, services from line 5, the pin group on lines 6-7.
const std::string kPinText = kServerArrayText + R"(backends = ( { key = "a"; address = "10.0.0.1"; } );
services = ( { name = "bank"; backends = ["a"]; policy = "url_hash";
               pin = { entry = ["/banking/*", "/loans/start"]; exit = ["/banking/logout"];
                       cookie = "SpPin"; max_age_s = 1800; }; },
             { name = "plain"; backends = ["a"]; } );
server = { listeners = ( { port = 80; service = "bank"; } ); };
)";

}  // namespace

TEST_CASE("pin settings load: patterns with their wildcard, cookie, age; absent means off", "[config][pin]") {
    const Config c = loaded(kPinText, "pin.conf");
    const PinConfig& p = c.services[0].pin;
    CHECK(p.enabled);
    REQUIRE(p.entry.size() == 2);
    CHECK(p.entry[0].text == "/banking/*");
    CHECK(p.entry[0].literal == "/banking/");
    CHECK(p.entry[0].prefix);
    CHECK(p.entry[0].line == 6);
    CHECK_FALSE(p.entry[1].prefix);
    REQUIRE(p.exit.size() == 1);
    CHECK(p.exit[0].literal == "/banking/logout");
    CHECK(p.cookie == "SpPin");
    CHECK(p.max_age_s == 1800);
    CHECK_FALSE(p.secret);
    CHECK_FALSE(c.services[1].pin.enabled);
    // Defaults: cookie SpPin, 1800 s, no exit.
    const Config d = loaded(replace(kPinText, R"(exit = ["/banking/logout"];
                       cookie = "SpPin"; max_age_s = 1800; )", ""), "pin.conf");
    CHECK(d.services[0].pin.cookie == "SpPin");
    CHECK(d.services[0].pin.max_age_s == 1800);
    CHECK(d.services[0].pin.exit.empty());
    const Config s = loaded(replace(kPinText, "max_age_s = 1800;",
                                    "max_age_s = 60; secret = "
                                    "\"a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9f\";"),
                            "pin.conf");
    REQUIRE(s.services[0].pin.secret);
    CHECK((*s.services[0].pin.secret)[0] == 0xa1);
    CHECK((*s.services[0].pin.secret)[31] == 0x9f);
}

TEST_CASE("pattern matching: exact paths and trailing wildcards, raw and case-sensitive", "[config][pin]") {
    const Config c = loaded(kPinText, "pin.conf");
    const PinPattern& wild = c.services[0].pin.entry[0];
    const PinPattern& exact = c.services[0].pin.entry[1];
    CHECK(wild.matches("/banking/"));
    CHECK(wild.matches("/banking/a/b"));
    CHECK_FALSE(wild.matches("/banking"));
    CHECK_FALSE(wild.matches("/Banking/a"));
    CHECK_FALSE(wild.matches("/%62anking/a"));
    CHECK(exact.matches("/loans/start"));
    CHECK_FALSE(exact.matches("/loans/start/x"));
    CHECK(wild.directory() == "/banking/");
    CHECK(exact.directory() == "/loans/");
    const Config b = loaded(replace(kPinText, "\"/loans/start\"", "\"/bank*\""), "pin.conf");
    CHECK(b.services[0].pin.entry[1].directory() == "/");
}

TEST_CASE("pin settings errors name file, line and reason", "[config][pin]") {
    const std::string& g = kPinText;
    check_refusals("pin.conf", {
        {"entry without '/'", replace(g, "\"/loans/start\"", "\"loans\""), 6, "must begin with '/'"},
        {"entry with '%'", replace(g, "\"/loans/start\"", "\"/lo%61ns\""), 6, "'%'"},
        {"entry with '..'", replace(g, "\"/loans/start\"", "\"/a/../b\""), 6, "\"..\""},
        {"entry with a query", replace(g, "\"/loans/start\"", "\"/a?b\""), 6, "'?'"},
        {"entry with a space", replace(g, "\"/loans/start\"", "\"/a b\""), 6, "space"},
        {"inner wildcard", replace(g, "\"/loans/start\"", "\"/a*/b\""), 6, "only a trailing '*'"},
        {"entry twice", replace(g, "\"/loans/start\"", "\"/banking/*\""), 6, "twice"},
        {"no entry", replace(g, "entry = [\"/banking/*\", \"/loans/start\"]; ", ""), 6, "missing setting 'entry'"},
        {"empty entry", replace(g, "[\"/banking/*\", \"/loans/start\"]", "[]"), 6, "is empty"},
        {"entry not strings", replace(g, "[\"/banking/*\", \"/loans/start\"]", "[1]"), 6, "non-string"},
        {"exit below no entry", replace(g, "\"/banking/logout\"", "\"/other/logout\""), 6, "lies below no entry"},
        {"exit below an exact entry", replace(g, "\"/banking/logout\"", "\"/loans/start\""), 6,
         "lies below no entry"},
        {"exit is an entry", replace(g, "\"/banking/logout\"", "\"/banking/*\""), 6, "lies below no entry"},
        {"cookie not a token", replace(g, "cookie = \"SpPin\"", "cookie = \"Sp Pin\""), 7, "cookie name"},
        {"cookie is the injected one", replace(g, "cookie = \"SpPin\"", "cookie = \"SpServer\""), 7, "must differ"},
        {"zero age", replace(g, "max_age_s = 1800", "max_age_s = 0"), 7, "max_age_s"},
        {"bad secret", replace(g, "max_age_s = 1800;", "max_age_s = 1800; secret = \"xyz\";"), 7, "secret"},
        {"unknown key", replace(g, "max_age_s = ", "max_age = "), 7, "unknown setting 'max_age'"},
        {"pin not a group", replace(g, R"(pin = { entry = ["/banking/*", "/loans/start"]; exit = ["/banking/logout"];
                       cookie = "SpPin"; max_age_s = 1800; };)", "pin = 3;"), 6, "pin"},
        {"redirect service",
         replace(replace(g, "policy = \"url_hash\";", "policy = \"url_hash\"; mode = \"redirect\";"),
                 "address = \"10.0.0.1\";", "address = \"10.0.0.1\"; redirect = \"https://a.example/%d%q\";"),
         6, "proxy services only"},
    });
}
