// The 'services' list: back ends by key, balancing policies, cookies, URL session ids, the pool.
#include <catch2/catch.hpp>

#include <algorithm>

#include "config_texts.hpp"

using namespace dlba;
using namespace dlba::config_test;

TEST_CASE("the services list loads every service with its values", "[config][server]") {
    const Config c = loaded(kServerFileText, "srv.conf");
    REQUIRE(c.services.size() == 3);
    const ServiceConfig& web = c.services[0];
    CHECK(web.backends == std::vector<size_t>{0, 1, 2});
    CHECK(web.policy == BalancePolicy::cookie);
    CHECK(web.fallback == BalancePolicy::response_time);
    CHECK(web.session_cookie == "JSESSIONID");
    CHECK(web.inject_cookie == "SpServer");  // default
    CHECK(web.strip_injected);
    CHECK(web.retries == 3);
    CHECK(web.down_interval_ms == 2000);
    CHECK(web.pool_idle_per_backend == 4);
    const ServiceConfig& cache = c.services[1];
    CHECK(cache.backends == std::vector<size_t>{2, 1});
    CHECK(cache.policy == BalancePolicy::url_hash);
    CHECK(cache.hash_bound_load == Approx(1.25));
    CHECK(cache.fallback == BalancePolicy::least_conn);
    CHECK(cache.pool_idle_per_backend == 0);
    const ServiceConfig& app = *c.service("app");
    CHECK(app.url_session_param == "jsessionid");
    CHECK(app.url_session_in == SessionIdPlace::path);
    CHECK(app.inject_cookie == "Srv");
    CHECK_FALSE(app.strip_injected);
    CHECK(app.upgrade_protocols == std::vector<std::string>{"websocket", "h2c"});
    CHECK(web.upgrade_protocols == std::vector<std::string>{"websocket"});  // default
    CHECK(c.service("nope") == nullptr);
}

TEST_CASE("a service's defaults apply", "[config][server]") {
    const Config c = loaded(kServerDefaultsText, "srv.conf");
    CHECK(c.services[0].policy == BalancePolicy::least_conn);
    CHECK(c.services[0].retries == 2);
    CHECK(c.services[0].down_interval_ms == 5000);
    CHECK(c.services[0].hash_bound_load == 0);
}

TEST_CASE("services list errors name file, line and reason", "[config][server]") {
    const std::string& g = kServerFileText;
    check_refusals("srv.conf", {
        {"unknown backend in a service", replace(g, "(10, \"b\", \"c\")", "(10, \"x\")"), 32, "no back end with key 'x'"},
        {"backend twice in a service", replace(g, "(10, \"b\", \"c\")", "(10, \"b\", 10)"), 32, "appears twice"},
        {"unknown policy", replace(g, "policy = \"cookie\"", "policy = \"random\""), 32, "is not one of"},
        {"cookie policy without session cookie", replace(g, "session_cookie = \"JSESSIONID\";", ""), 32,
         "needs 'session_cookie'"},
        {"fallback that needs a key", replace(g, "fallback = \"response_time\"", "fallback = \"cookie\""), 33,
         "must be \"url_hash\""},
        {"bound load below 1", replace(g, "hash_bound_load = 1.25", "hash_bound_load = 0.5"), 34, "at least 1"},
        {"url_session without param", replace(g, "url_session_param = \"jsessionid\"; ", ""), 35,
         "needs 'url_session_param'"},
        {"bad url_session_in", replace(g, "url_session_in = \"path\"", "url_session_in = \"body\""), 35, "is not one of"},
        {"duplicate service", replace(g, "name = \"cache\"", "name = \"web\""), 34, "used twice"},
        {"an upgrade protocol that is not a token", replace(g, "\"h2c\"]", "\"h2 c\"]"), 36,
         "must be a protocol name"},
        {"an upgrade protocol with a version", replace(g, "\"h2c\"]", "\"HTTP/2.0\"]"), 36, "must be a protocol name"},
        {"upgrade protocols not a list", replace(g, "[\"websocket\", \"h2c\"]", "\"websocket\""), 36,
         "must be a list of protocol names"},
        {"an upgrade protocol that is not a string", replace(g, "[\"websocket\", \"h2c\"]", "(\"websocket\", 2)"), 36,
         "non-string"},
        {"unknown service key", replace(g, "retries = 3;", "retry = 3;"), 33, "unknown setting 'retry'"},
        {"inject cookie equals session cookie",
         replace(g, "session_cookie = \"JSESSIONID\";", "session_cookie = \"SpServer\";"), 32, "must differ"},
        {"unknown pool key", replace(g, "idle_per_backend = 4;", "idle = 4;"), 33, "unknown setting 'idle'"},
        {"prewarm above the pool depth", replace(g, "idle_per_backend = 4;", "idle_per_backend = 4; prewarm = 5;"), 33,
         "'services.[0].pool.prewarm' = 5 is out of range [0, 4]"},
        {"prewarm without a pool", replace(g, "idle_per_backend = 4;", "prewarm = 1;"), 33, "is out of range [0, 0]"},
        {"negative prewarm", replace(g, "idle_per_backend = 4;", "idle_per_backend = 4; prewarm = -1;"), 33,
         "out of range"},
    });
}

TEST_CASE("pool.prewarm loads up to the pool depth and defaults to none", "[config][server]") {
    const Config c = loaded(replace(kServerFileText, "idle_per_backend = 4;", "idle_per_backend = 4; prewarm = 4;"),
                            "srv.conf");
    CHECK(c.services[0].pool_prewarm == 4);
    CHECK(c.services[1].pool_prewarm == 0);
    const Config d = loaded(kServerFileText, "srv.conf");
    CHECK(d.services[0].pool_prewarm == 0);
}

TEST_CASE("policy names print as they are written in the file", "[config][server]") {
    CHECK(std::string(balance_policy_name(BalancePolicy::url_session)) == "url_session");
    CHECK(std::string(balance_policy_name(BalancePolicy::response_time)) == "response_time");
    CHECK(std::string(balance_policy_name(BalancePolicy::cookie)) == "cookie");
    CHECK(std::string(balance_policy_name(BalancePolicy::url_hash)) == "url_hash");
    CHECK(std::string(balance_policy_name(BalancePolicy::least_conn)) == "least_conn");
}

namespace {

// TLS-session affinity: a service behind a TLS listener (and optionally a plain one).
std::string tls_session_text(const std::string& service_extra, const std::string& listeners) {
    return kServerArrayText + R"(
backends = ( { key = "a"; address = "10.0.0.1"; }, { key = "b"; address = "10.0.0.2"; } );
services = (
  { name = "shop"; backends = ["a", "b"];
    policy = "tls_session";)" + service_extra + R"( }
);
tls = { certificate = "/etc/dlba/server.pem"; key = "/etc/dlba/server.key"; };
server = { listeners = ( )" + listeners + R"( ); };
)";
}

int line_of(const std::string& text, const std::string& needle) {
    const size_t at = text.find(needle);
    REQUIRE(at != std::string::npos);
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

const std::string kTlsListener = R"({ port = 443; tls = true; service = "shop"; })";
const std::string kPlainListener = R"({ port = 80; service = "shop"; })";

}  // namespace

TEST_CASE("a tls_session service loads with its fallback and secure paths", "[config][server]") {
    const Config c = loaded(tls_session_text(R"( fallback = "url_hash"; tls_session_paths = ["/checkout/", "/cart"];)",
                                             kTlsListener + ", " + kPlainListener),
                            "srv.conf");
    const ServiceConfig& s = c.services[0];
    CHECK(s.policy == BalancePolicy::tls_session);
    CHECK(s.fallback == BalancePolicy::url_hash);
    CHECK(s.tls_session_paths == std::vector<std::string>{"/checkout/", "/cart"});
    CHECK(std::string(balance_policy_name(BalancePolicy::tls_session)) == "tls_session");
    // Defaults: least connections for the first back end, every request a secure one.
    const Config d = loaded(tls_session_text("", kTlsListener), "srv.conf");
    CHECK(d.services[0].fallback == BalancePolicy::least_conn);
    CHECK(d.services[0].tls_session_paths.empty());
}

TEST_CASE("tls_session refusals name file, line and reason", "[config][server]") {
    const std::string plain_only = tls_session_text("", kPlainListener);
    const std::string bad_path = tls_session_text(R"( tls_session_paths = ["checkout"];)", kTlsListener);
    const std::string not_list = tls_session_text(R"( tls_session_paths = "/checkout/";)", kTlsListener);
    const std::string number = tls_session_text(R"( tls_session_paths = ("/a", 3);)", kTlsListener);
    const std::string as_fallback = tls_session_text(R"( fallback = "tls_session";)", kTlsListener);
    std::string other_policy = replace(tls_session_text(R"( tls_session_paths = ["/a"];)", kTlsListener),
                                       R"(policy = "tls_session";)", R"(policy = "least_conn";)");
    check_refusals("srv.conf", {
        {"a tls_session service reached only through a plain listener", plain_only,
         line_of(plain_only, "{ port = 80;"), "only through plain (non-TLS) listeners"},
        {"a secure path without a leading slash", bad_path, line_of(bad_path, "tls_session_paths"),
         "must be a path prefix beginning with '/'"},
        {"secure paths not a list", not_list, line_of(not_list, "tls_session_paths"), "must be a list"},
        {"a secure path that is not a string", number, line_of(number, "tls_session_paths"), "non-string"},
        {"tls_session as a fallback", as_fallback, line_of(as_fallback, "fallback"), "must be \"url_hash\""},
        {"secure paths under another policy", other_policy, line_of(other_policy, "tls_session_paths"),
         "for policy \"tls_session\" only"},
    });
    // Reached through TLS as well as plain: accepted (plain requests are balanced one by one).
    CHECK(std::holds_alternative<Config>(parse_config(tls_session_text("", kPlainListener + ", " + kTlsListener),
                                                      "srv.conf")));
}
