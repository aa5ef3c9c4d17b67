// URI-dedicated routes: server.listeners[].routes (config/routes_section.hpp).
#include <catch2/catch.hpp>

#include "config_texts.hpp"

using namespace dlba;
using namespace dlba::config_test;

namespace {

// Lines 1-3: the array; back ends and services from line 4; the listener on line 10, its routes on lines 11-13.
const std::string kRoutesText = kServerArrayText + R"(backends = ( { key = "b1"; address = "10.0.0.1"; },
             { key = "s1"; address = "10.0.0.2"; }, { key = "w1"; address = "10.0.0.3"; } );
services = ( { name = "web"; backends = ["w1"]; },
             { name = "bank"; backends = ["b1"]; },
             { name = "sec"; backends = ["s1"]; } );
server = { listeners = (
  { port = 80; service = "web"; routes = (
      { host = "Bank.Example"; path_prefix = "/banking/"; service = "bank"; overflow = "web"; },
      { path_prefix = "/securities/"; service = "sec"; },
      { host = "sec.example"; service = "sec"; } ); } ); };
)";

}  // namespace

TEST_CASE("routes load in order, with lower-cased hosts and their services resolved", "[config][routes]") {
    const Config c = loaded(kRoutesText, "srv.conf");
    const ListenerConfig& l = c.server->listeners.at(0);
    CHECK(l.service == "web");
    REQUIRE(l.routes.size() == 3);
    const RouteConfig& bank = l.routes[0];
    CHECK(bank.host == "Bank.Example");
    CHECK(bank.host_lower == "bank.example");
    CHECK(bank.path_prefix == "/banking/");
    CHECK(bank.service == "bank");
    CHECK(bank.service_index == 1);
    REQUIRE(bank.overflow_index.has_value());
    CHECK(*bank.overflow_index == 0);
    CHECK(bank.overflow == "web");
    CHECK(bank.line == 11);
    CHECK(l.routes[1].host.empty());
    CHECK(l.routes[1].service_index == 2);
    CHECK_FALSE(l.routes[1].overflow_index.has_value());
    CHECK(l.routes[2].path_prefix.empty());
    CHECK(l.routes[2].host_lower == "sec.example");
    // Absent: no routes at all.
    const Config none = loaded(cut(kRoutesText, " routes = (", "); } ); };\n") + " } ); };\n", "srv.conf");
    CHECK(none.server->listeners.at(0).routes.empty());
}

TEST_CASE("route errors name file, line and reason", "[config][routes]") {
    const std::string& g = kRoutesText;
    check_refusals("srv.conf", {
        {"unknown service", replace(g, "service = \"bank\";", "service = \"nope\";"), 11, "no service named 'nope'"},
        {"unknown overflow", replace(g, "overflow = \"web\"", "overflow = \"gone\""), 11, "no service named 'gone'"},
        {"overflow is the service", replace(g, "overflow = \"web\"", "overflow = \"bank\""), 11, "route's own service"},
        {"prefix without slash", replace(g, "\"/securities/\"", "\"securities/\""), 12, "must begin with '/'"},
        {"prefix with percent", replace(g, "\"/securities/\"", "\"/secur%69ties/\""), 12, "holds '%'"},
        {"prefix with dot-dot", replace(g, "\"/securities/\"", "\"/a/../b/\""), 12, "holds '..'"},
        {"prefix with space", replace(g, "\"/securities/\"", "\"/a b/\""), 12, "space"},
        {"empty prefix", replace(g, "\"/securities/\"", "\"\""), 12, "must begin with '/'"},
        {"neither host nor prefix", replace(g, "{ path_prefix = \"/securities/\"; service = \"sec\"; }",
                                            "{ service = \"sec\"; }"), 12, "needs 'host' or 'path_prefix'"},
        {"host with port", replace(g, "\"sec.example\"", "\"sec.example:80\""), 13, "without port"},
        {"empty host", replace(g, "\"sec.example\"", "\"\""), 13, "without port"},
        {"unknown key", replace(g, "path_prefix = \"/banking/\"", "prefix = \"/banking/\""), 11,
         "unknown setting 'prefix'"},
        {"missing service", replace(g, "{ host = \"sec.example\"; service = \"sec\"; }", "{ host = \"sec.example\"; }"),
         13, "missing setting 'service'"},
        {"route never matches", replace(g, "{ host = \"sec.example\"; service = \"sec\"; }",
                                        "{ path_prefix = \"/securities/x\"; service = \"bank\"; }"), 13,
         "can never match"},
        {"routes not a list", replace(cut(g, "routes = (", "); } ); };\n"), "service = \"web\";",
                                      "service = \"web\"; routes = 3; } ); };"), 10, "must be a list"},
        {"entry not a group", replace(g, "{ host = \"sec.example\"; service = \"sec\"; }", "3"), 13, "must be a group"},
    });
}
