// Redirect services in the file (config/redirect_section.hpp): mode, codes, URL templates, backups, and every
// refusal with its file:line.
#include <catch2/catch.hpp>

#include "config/backup_chain.hpp"
#include "config/redirect_section.hpp"
#include "config_texts.hpp"

using namespace dlba;
using namespace dlba::config_test;

namespace {

// Lines 1-3: the array; the back ends on lines 5-9, the services on lines 12-15.
const std::string kRedirectText = kServerArrayText + R"(backends = (
  { key = "web1"; redirect = "http://web1.test/%d%q"; weight = 2; backup = "web4"; },
  { key = "web2"; redirect = "http://web2.test:%s/%d%q"; },
  { key = "web3"; address = "10.0.0.3"; redirect = "https://%h/web3/%d"; backup_url = "http://sorry.test/"; },
  { key = "web4"; redirect = "http://web4.test/%d%q"; },
  { key = "app"; address = "10.0.0.9"; }
);
services = (
  { name = "r"; mode = "redirect"; backends = ["web1", "web2", "web3"]; redirect_code = 307;
    redirect_close = true; },
  { name = "spare"; mode = "redirect"; backends = ["web4"]; },
  { name = "p"; backends = ["app"]; }
);
server = { listeners = ( { port = 80; service = "r"; }, { port = 81; service = "p"; } ); };
)";

}  // namespace

TEST_CASE("redirect services load with their codes, templates and backups", "[config][redirect]") {
    const Config c = loaded(kRedirectText, "redirect.conf");
    REQUIRE(c.services.size() == 3);
    CHECK(c.services[0].mode == ServiceMode::redirect);
    CHECK(c.services[0].redirect_code == 307);
    CHECK(c.services[0].redirect_close);
    CHECK(c.services[0].policy == BalancePolicy::round_robin);  // a redirect service's default
    CHECK(c.services[1].redirect_code == 302);                 // defaults
    CHECK_FALSE(c.services[1].redirect_close);
    CHECK(c.services[2].mode == ServiceMode::proxy);
    CHECK(c.services[2].policy == BalancePolicy::least_conn);
    REQUIRE(c.backends.size() == 5);
    CHECK_FALSE(c.backends[0].has_address);
    CHECK(c.backends[2].has_address);
    REQUIRE(c.backends[0].redirect);
    CHECK(c.backends[0].redirect->source() == "http://web1.test/%d%q");
    CHECK(c.backends[0].backup == "web4");
    CHECK(c.backends[0].backup_index == std::optional<size_t>(3));
    CHECK(c.backends[2].backup_url);
    CHECK_FALSE(c.backends[4].redirect);
    const std::vector<BackupLink> links = backup_links(c.backends);
    CHECK(links[0].backend == std::optional<size_t>(3));
    CHECK(links[2].url);
    CHECK_FALSE(links[1].backend);
    // Two address-less back ends are not "the same endpoint twice".
    CHECK(c.backends[1].address == 0);
}

TEST_CASE("redirect settings errors name file, line and reason", "[config][redirect]") {
    const std::string& g = kRedirectText;
    check_refusals("redirect.conf", {
        {"unknown macro", replace(g, "web1.test/%d%q", "web1.test/%x"), 5, "unknown macro '%x'"},
        {"lone percent", replace(g, "web1.test/%d%q", "web1.test/%"), 5, "lone '%'"},
        {"not absolute", replace(g, "\"http://web1.test/%d%q\"", "\"/web1/%d\""), 5, "absolute"},
        {"not http", replace(g, "\"http://web1.test/%d%q\"", "\"ftp://web1.test/\""), 5, "absolute"},
        {"space in template", replace(g, "web1.test/%d%q", "web1.test/a b"), 5, "may not carry"},
        {"bad backup_url", replace(g, "http://sorry.test/", "sorry/%z"), 7, "unknown macro"},
        {"unknown backup key", replace(g, "backup = \"web4\"", "backup = \"web9\""), 5, "no back end with key 'web9'"},
        {"backup and backup_url", replace(g, "backup = \"web4\"", "backup = \"web4\"; backup_url = \"http://a.test/\""),
         5, "not both"},
        {"self backup", replace(g, "backup = \"web4\"", "backup = \"web1\""), 5, "cycle (web1 -> web1)"},
        {"two-way cycle", replace(g, "{ key = \"web4\"; redirect", "{ key = \"web4\"; backup = \"web1\"; redirect"), 5,
         "cycle (web1 -> web4 -> web1)"},
        {"unknown mode", replace(g, "mode = \"redirect\"; backends = [\"web1\"", "mode = \"bounce\"; backends = [\"web1\""),
         12, "is not one of \"proxy\", \"redirect\""},
        {"bad code", replace(g, "redirect_code = 307", "redirect_code = 304"), 12, "301, 302, 303, 307 or 308"},
        {"code out of range", replace(g, "redirect_code = 307", "redirect_code = 200"), 12, "out of range"},
        {"redirect_close not a boolean", replace(g, "redirect_close = true", "redirect_close = 1"), 13, "true or false"},
        {"code on a proxy service", replace(g, "name = \"p\"; backends", "name = \"p\"; redirect_code = 301; backends"),
         15, "needs mode = \"redirect\""},
        {"redirect back end without a URL", replace(g, "backends = [\"web4\"]", "backends = [\"web4\", \"app\"]"), 14,
         "back end 'app' of redirect service 'spare' has no 'redirect'"},
        {"proxy service with an address-less back end", replace(g, "backends = [\"app\"]", "backends = [\"app\", \"web2\"]"),
         15, "has no 'address'"},
        {"proxy service with a backup", replace(g, "backends = [\"app\"]", "backends = [\"app\", \"web3\"]"), 15,
         "only redirect services use"},
        {"backup without a URL", replace(g, "backup = \"web4\"", "backup = \"app\""), 12,
         "back end 'app', in the backup chain of 'web1'"},
        {"unknown back-end key", replace(g, "backup_url = \"http", "backup_uri = \"http"), 7,
         "unknown setting 'backup_uri'"},
    });
}

TEST_CASE("backup chains deeper than 8 are refused at the first back end of the chain", "[config][redirect]") {
    std::string backends = "backends = (\n";
    for (int i = 0; i < 10; ++i) {
        backends += "  { key = \"b" + std::to_string(i) + "\"; redirect = \"http://b" + std::to_string(i) + ".test/\";";
        if (i < 9) backends += " backup = \"b" + std::to_string(i + 1) + "\";";
        backends += " },\n";
    }
    backends.erase(backends.size() - 2);  // the last ','
    backends += "\n);\n";
    const std::string tail = R"(services = ( { name = "r"; mode = "redirect"; backends = ["b0"]; } );
server = { listeners = ( { port = 80; service = "r"; } ); };
)";
    check_refusals("deep.conf", {{"nine hops", kServerArrayText + backends + tail, 5, "deeper than 8"}});
    // Eight hops are fine: b1 -> ... -> b9.
    const std::string eight = replace(kServerArrayText + backends + tail, " backup = \"b1\";", "");
    CHECK(loaded(eight, "deep.conf").backends[1].backup_index == std::optional<size_t>(2));
}
