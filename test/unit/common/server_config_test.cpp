// The DLBA server's configuration sections: server, tls, backends, services.
#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "config.hpp"

using namespace dlba;

namespace {

const std::string kArray = R"(array = { vip = "10.77.0.100"; tcp_ports = [80, 443]; };
nodes = ( { number = 1; eth0_mac = "02:77:00:00:01:01"; eth0_ip = "10.77.0.11";
            sched_mac = "02:77:00:00:02:01"; sched_ip = "10.77.0.21"; } );
)";

// Line 4 onwards; the line numbers in the error cases below count from the top of kArray + kServer.
const std::string kServer = R"(server = {
  listeners = (
    { address = "127.0.0.1"; port = 8080; service = "web"; },
    { port = 8443; tls = true; service = "web"; }
  );
  workers = 2;
  monitor_socket = "/tmp/dlba-test.sock";
  max_connections = 500;
  timeouts = { header_ms = 5000; idle_ms = 20000; body_ms = 7000; backend_connect_ms = 800;
               backend_response_ms = 9000; shutdown_ms = 3000; };
  limits = { max_header_bytes = 16384; max_header_count = 50; max_uri_bytes = 4096; max_body_bytes = 1000000; };
  forwarded = "both";
  access_log = "stderr";
};
tls = {
  certificate = "/etc/dlba/server.pem";
  key = "/etc/dlba/server.key";
  ticket_keys = [
    "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f",
    "ff0102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f"
  ];
};
backends = (
  { key = 10; address = "127.0.0.11"; port = 8081; weight = 2; },
  { key = "b"; address = "127.0.0.12"; port = 8081; enabled = false; },
  { key = "c"; address = "127.0.0.13"; }
);
services = (
  { name = "web"; backends = (10, "b", "c"); policy = "cookie"; session_cookie = "JSESSIONID";
    fallback = "response_time"; retries = 3; down_interval_ms = 2000; pool = { idle_per_backend = 4; }; },
  { name = "cache"; backends = ["c", "b"]; policy = "url_hash"; hash_bound_load = 1.25; },
  { name = "app"; backends = ["b"]; policy = "url_session"; url_session_param = "jsessionid"; url_session_in = "path";
    inject_cookie = "Srv"; strip_injected = false; }
);
)";

ArrayConfig loaded(const std::string& text) {
    ConfigResult r = parse_config(text, "srv.conf");
    if (auto* e = std::get_if<ConfigError>(&r)) FAIL(e->str());
    return std::get<ArrayConfig>(r);
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
    const size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

// Drops the text from `from` up to and including `to` (a whole setting or section).
std::string cut(std::string text, const std::string& from, const std::string& to) {
    const size_t a = text.find(from);
    REQUIRE(a != std::string::npos);
    const size_t b = text.find(to, a);
    REQUIRE(b != std::string::npos);
    return text.erase(a, b + to.size() - a);
}

}  // namespace

TEST_CASE("server, tls, backends and services load with every value", "[config][server]") {
    const ArrayConfig c = loaded(kArray + kServer);
    REQUIRE(c.server);
    const ServerConfig& s = *c.server;
    REQUIRE(s.listeners.size() == 2);
    CHECK(s.listeners[0].address == 0x7f000001);
    CHECK(s.listeners[0].port == 8080);
    CHECK_FALSE(s.listeners[0].tls);
    CHECK(s.listeners[1].address == c.vip);  // address defaults to the VIP
    CHECK(s.listeners[1].tls);
    CHECK(s.listeners[1].service_index == 0);
    CHECK(s.workers == 2);
    CHECK(s.monitor_socket == "/tmp/dlba-test.sock");
    CHECK(s.max_connections == 500);
    CHECK(s.timeouts.header_ms == 5000);
    CHECK(s.timeouts.idle_ms == 20000);
    CHECK(s.timeouts.body_ms == 7000);
    CHECK(s.timeouts.backend_connect_ms == 800);
    CHECK(s.timeouts.backend_response_ms == 9000);
    CHECK(s.timeouts.shutdown_ms == 3000);
    CHECK(s.limits.max_header_bytes == 16384);
    CHECK(s.limits.max_header_count == 50);
    CHECK(s.limits.max_uri_bytes == 4096);
    CHECK(s.limits.max_body_bytes == 1000000);
    CHECK(s.forwarded == ForwardedHeader::both);
    CHECK(s.access_log == "stderr");

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

    REQUIRE(c.backends.size() == 3);
    CHECK(c.backends[0].key == "10");  // integer keys are accepted and kept as text
    CHECK(c.backends[0].weight == 2);
    CHECK(c.backends[0].port == 8081);
    CHECK_FALSE(c.backends[1].enabled);
    CHECK(c.backends[2].port == 80);
    CHECK(c.backends[2].weight == 1);

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

TEST_CASE("the server sections are optional, and defaults apply", "[config][server]") {
    const ArrayConfig bare = loaded(kArray);
    CHECK_FALSE(bare.server);
    CHECK_FALSE(bare.tls);
    CHECK(bare.backends.empty());
    CHECK(bare.services.empty());

    const ArrayConfig c = loaded(kArray + R"(
backends = ( { key = "a"; address = "10.0.0.1"; } );
services = ( { name = "s"; backends = ["a"]; } );
server = { listeners = ( { port = 80; service = "s"; } ); };
)");
    REQUIRE(c.server);
    const ServerConfig& s = *c.server;
    CHECK(s.workers == 0);
    CHECK(s.monitor_socket == "/run/dlba/server.sock");
    CHECK(s.max_connections == 10000);
    CHECK(s.timeouts.header_ms == 10000);
    CHECK(s.limits.max_header_bytes == 32768);
    CHECK(s.limits.max_body_bytes == 0);
    CHECK(s.forwarded == ForwardedHeader::x_forwarded_for);
    CHECK(s.access_log.empty());
    CHECK(c.services[0].policy == BalancePolicy::least_conn);
    CHECK(c.services[0].retries == 2);
    CHECK(c.services[0].down_interval_ms == 5000);
    CHECK(c.services[0].hash_bound_load == 0);
}

TEST_CASE("server configuration errors name file, line and reason", "[config][server]") {
    struct Case {
        const char* what;
        std::string text;
        int line;
        const char* reason_part;
    };
    const std::string g = kArray + kServer;
    const Case cases[] = {
        {"unknown server key", replace(g, "workers = 2;", "wokers = 2;"), 9, "unknown setting 'wokers'"},
        {"unknown listener key", replace(g, "port = 8080;", "prot = 8080;"), 6, "unknown setting 'prot'"},
        {"listener for an unknown service", replace(g, "port = 8080; service = \"web\"", "port = 8080; service = \"wbe\""), 6,
         "no service named 'wbe'"},
        {"listener port out of range", replace(g, "port = 8080;", "port = 0;"), 6, "out of range"},
        {"duplicate listener", replace(g, "{ port = 8443;", "{ address = \"127.0.0.1\"; port = 8080;"), 7,
         "listed twice"},
        {"TLS listener without tls", cut(g, "tls = {\n", "];\n};\n"), 7, "needs the 'tls' section"},
        {"bad forwarded", replace(g, "forwarded = \"both\"", "forwarded = \"all\""), 15, "is not one of"},
        {"timeout zero", replace(g, "header_ms = 5000", "header_ms = 0"), 12, "out of range"},
        {"bad limit", replace(g, "max_header_count = 50", "max_header_count = 1"), 14, "out of range"},
        {"ticket key too short", replace(g, "\"ff01", "\"01"), 24, "160 hex digits"},
        {"ticket key not hex", replace(g, "\"ff01", "\"zz01"), 24, "160 hex digits"},
        {"ticket key names repeat", replace(g, "\"ff01", "\"0001"), 24, "repeats the name"},
        {"tls without key", replace(g, "key = \"/etc/dlba/server.key\";", ""), 18, "missing setting 'key'"},
        {"duplicate backend key", replace(g, "key = \"b\";", "key = \"10\";"), 28, "used twice"},
        {"backend key with a space", replace(g, "key = \"b\";", "key = \"b b\";"), 28, "cookie characters"},
        {"backend key with a semicolon", replace(g, "key = \"b\";", "key = \"b;c\";"), 28, "cookie characters"},
        {"backend bad address", replace(g, "127.0.0.12", "127.0.0"), 28, "not an IPv4 address"},
        {"duplicate backend endpoint", replace(g, "127.0.0.12\"; port = 8081", "127.0.0.11\"; port = 8081"), 28,
         "listed twice"},
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
        {"inject cookie equals session cookie", replace(g, "session_cookie = \"JSESSIONID\";",
                                                        "session_cookie = \"SpServer\";"),
         32, "must differ"},
        {"unknown pool key", replace(g, "idle_per_backend = 4;", "idle = 4;"), 33, "unknown setting 'idle'"},
        {"unknown top-level section", g + "proxy = { };\n", 38, "unknown setting 'proxy'"},
    };
    for (const Case& c : cases) {
        INFO(c.what);
        ConfigResult r = parse_config(c.text, "srv.conf");
        REQUIRE(std::holds_alternative<ConfigError>(r));
        const ConfigError& e = std::get<ConfigError>(r);
        INFO(e.str());
        CHECK(e.file == "srv.conf");
        CHECK(e.line == c.line);
        CHECK(e.reason.find(c.reason_part) != std::string::npos);
    }
}

TEST_CASE("policy and forwarded names print as they are written in the file", "[config][server]") {
    CHECK(std::string(balance_policy_name(BalancePolicy::url_session)) == "url_session");
    CHECK(std::string(balance_policy_name(BalancePolicy::response_time)) == "response_time");
    CHECK(std::string(forwarded_header_name(ForwardedHeader::x_forwarded_for)) == "x-forwarded-for");
}
