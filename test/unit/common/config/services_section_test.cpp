// The 'services' list: back ends by key, balancing policies, cookies, URL session ids, the pool.
#include <catch2/catch.hpp>

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
