// CDN URL rewriting settings: services[].cdn (config/cdn_section.hpp).
#include <catch2/catch.hpp>

#include "config_texts.hpp"

using namespace dlba;
using namespace dlba::config_test;

namespace {

// Lines 1-3: the array; the services from line 4, the cdn group on line 5.
const std::string kCdnText = kServerArrayText + R"(backends = ( { key = "a"; address = "10.0.0.1"; } );
services = ( { name = "s"; backends = ["a"];
               cdn = { host = "cdn.example.net"; match = ["^/static/", "\\.(png|jpg|css|js)$"]; }; },
             { name = "plain"; backends = ["a"]; } );
server = { listeners = ( { port = 80; service = "s"; } ); };
)";

}  // namespace

TEST_CASE("cdn settings load: the host and the patterns in order; absent means off", "[config][cdn]") {
    const Config c = loaded(kCdnText, "cdn.conf");
    const CdnConfig& cdn = c.services[0].cdn;
    CHECK(cdn.enabled);
    CHECK(cdn.host == "cdn.example.net");
    REQUIRE(cdn.match.size() == 2);
    CHECK(cdn.match[0] == "^/static/");
    CHECK(cdn.match[1] == "\\.(png|jpg|css|js)$");  // libconfig's "\\." is the regex \.
    CHECK_FALSE(c.services[1].cdn.enabled);
    CHECK(c.services[1].cdn.match.empty());
    // A host with a port is a host too.
    const Config p = loaded(replace(kCdnText, "\"cdn.example.net\"", "\"cdn.example.net:8080\""), "cdn.conf");
    CHECK(p.services[0].cdn.host == "cdn.example.net:8080");
}

TEST_CASE("cdn settings errors name file, line and reason", "[config][cdn]") {
    const std::string& g = kCdnText;
    check_refusals("cdn.conf", {
        {"invalid pattern", replace(g, "\"^/static/\"", "\"^/(static\""), 6, "not a valid regular expression"},
        {"unbalanced bracket", replace(g, "\"^/static/\"", "\"[a-\""), 6, "not a valid regular expression"},
        {"empty pattern", replace(g, "\"^/static/\"", "\"\""), 6, "would match every URL"},
        {"pattern not a string", replace(g, "[\"^/static/\", \"\\\\.(png|jpg|css|js)$\"]", "[3]"), 6,
         "must hold strings"},
        {"empty match", replace(g, "[\"^/static/\", \"\\\\.(png|jpg|css|js)$\"]", "[]"), 6, "is empty"},
        {"missing match", replace(g, "match = [\"^/static/\", \"\\\\.(png|jpg|css|js)$\"]; ", ""), 6,
         "missing setting 'match'"},
        {"missing host", replace(g, "host = \"cdn.example.net\"; ", ""), 6, "host"},
        {"host with a path", replace(g, "\"cdn.example.net\"", "\"cdn.example.net/x\""), 6, "not a host name"},
        {"host with a scheme", replace(g, "\"cdn.example.net\"", "\"http://cdn.example.net\""), 6,
         "not a host name"},
        {"host with a bad label", replace(g, "\"cdn.example.net\"", "\"cdn..example.net\""), 6, "not a host name"},
        {"host with a bad port", replace(g, "\"cdn.example.net\"", "\"cdn.example.net:99999\""), 6,
         "not a host name"},
        {"empty host", replace(g, "\"cdn.example.net\"", "\"\""), 6, "not a host name"},
        {"unknown key", replace(g, "host = ", "hosts = "), 6, "unknown setting 'hosts'"},
        {"cdn not a group", replace(g, "cdn = { host = \"cdn.example.net\"; match = [\"^/static/\", \"\\\\.(png|jpg|css|js)$\"]; };",
                                    "cdn = 3;"), 6, "cdn"},
    });
}
