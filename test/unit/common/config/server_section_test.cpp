// The 'server' section: listeners, workers, timeouts, limits, the forwarding header, the access log.
#include <catch2/catch.hpp>

#include "config_texts.hpp"

using namespace dlba;
using namespace dlba::config_test;

TEST_CASE("the server section loads its listeners", "[config][server]") {
    const Config c = loaded(kServerFileText, "srv.conf");
    REQUIRE(c.server);
    const ServerConfig& s = *c.server;
    REQUIRE(s.listeners.size() == 2);
    CHECK(s.listeners[0].address == 0x7f000001);
    CHECK(s.listeners[0].port == 8080);
    CHECK_FALSE(s.listeners[0].tls);
    CHECK(s.listeners[1].address == c.vip);  // address defaults to the VIP
    CHECK(s.listeners[1].tls);
    CHECK(s.listeners[1].service_index == 0);
}

TEST_CASE("each server setting loads as written, and its default applies when it is absent", "[config][server]") {
    const Config written = loaded(kServerFileText, "srv.conf");
    const Config bare = loaded(kServerDefaultsText, "srv.conf");
    REQUIRE(written.server);
    REQUIRE(bare.server);
    // The value kServerFileText writes, then the default kServerDefaultsText leaves it at.
    check_settings(*written.server, *bare.server, {
        {"workers", [](const ServerConfig& s) { return std::to_string(s.workers); }, "2", "0"},
        {"monitor_socket", [](const ServerConfig& s) { return s.monitor_socket; }, "/tmp/dlba-test.sock",
         "/run/dlba/server.sock"},
        {"max_connections", [](const ServerConfig& s) { return std::to_string(s.max_connections); }, "500", "10000"},
        {"header_ms", [](const ServerConfig& s) { return std::to_string(s.timeouts.header_ms); }, "5000", "10000"},
        {"idle_ms", [](const ServerConfig& s) { return std::to_string(s.timeouts.idle_ms); }, "20000", "60000"},
        {"body_ms", [](const ServerConfig& s) { return std::to_string(s.timeouts.body_ms); }, "7000", "30000"},
        {"backend_connect_ms", [](const ServerConfig& s) { return std::to_string(s.timeouts.backend_connect_ms); },
         "800", "3000"},
        {"backend_response_ms", [](const ServerConfig& s) { return std::to_string(s.timeouts.backend_response_ms); },
         "9000", "60000"},
        {"shutdown_ms", [](const ServerConfig& s) { return std::to_string(s.timeouts.shutdown_ms); }, "3000", "10000"},
        {"handshake_ms", [](const ServerConfig& s) { return std::to_string(s.timeouts.handshake_ms); }, "2000",
         "5000"},
        {"tunnel_ms", [](const ServerConfig& s) { return std::to_string(s.timeouts.tunnel_ms); }, "120000",
         "3600000"},
        {"max_header_bytes", [](const ServerConfig& s) { return std::to_string(s.limits.max_header_bytes); }, "16384",
         "32768"},
        {"max_header_count", [](const ServerConfig& s) { return std::to_string(s.limits.max_header_count); }, "50",
         "100"},
        {"max_uri_bytes", [](const ServerConfig& s) { return std::to_string(s.limits.max_uri_bytes); }, "4096", "8192"},
        {"max_body_bytes", [](const ServerConfig& s) { return std::to_string(s.limits.max_body_bytes); }, "1000000",
         "0"},
        {"max_connections_per_ip", [](const ServerConfig& s) { return std::to_string(s.limits.max_connections_per_ip); },
         "50", "0"},
        {"forwarded", [](const ServerConfig& s) { return std::string(forwarded_header_name(s.forwarded)); }, "both",
         "x-forwarded-for"},
        {"access_log", [](const ServerConfig& s) { return s.access_log; }, "stderr", ""},
    });
}

TEST_CASE("server section errors name file, line and reason", "[config][server]") {
    const std::string& g = kServerFileText;
    check_refusals("srv.conf", {
        {"unknown server key", replace(g, "workers = 2;", "wokers = 2;"), 9, "unknown setting 'wokers'"},
        {"unknown listener key", replace(g, "port = 8080;", "prot = 8080;"), 6, "unknown setting 'prot'"},
        {"listener for an unknown service",
         replace(g, "port = 8080; service = \"web\"", "port = 8080; service = \"wbe\""), 6, "no service named 'wbe'"},
        {"listener port out of range", replace(g, "port = 8080;", "port = 0;"), 6, "out of range"},
        {"duplicate listener", replace(g, "{ port = 8443;", "{ address = \"127.0.0.1\"; port = 8080;"), 7,
         "listed twice"},
        {"TLS listener without tls", cut(g, "tls = {\n", "];\n};\n"), 7, "needs the 'tls' section"},
        {"bad forwarded", replace(g, "forwarded = \"both\"", "forwarded = \"all\""), 15, "is not one of"},
        {"timeout zero", replace(g, "header_ms = 5000", "header_ms = 0"), 11, "out of range"},
        {"handshake deadline zero", replace(g, "handshake_ms = 2000", "handshake_ms = 0"), 12, "out of range"},
        {"tunnel idle timeout zero", replace(g, "tunnel_ms = 120000", "tunnel_ms = 0"), 12, "out of range"},
        {"tunnel idle timeout not a number", replace(g, "tunnel_ms = 120000", "tunnel_ms = \"1h\""), 12, "integer"},
        {"bad limit", replace(g, "max_header_count = 50", "max_header_count = 1"), 13, "out of range"},
        {"negative per-address limit", replace(g, "max_connections_per_ip = 50", "max_connections_per_ip = -1"), 14,
         "out of range"},
        {"per-address limit as high as max_connections",
         replace(g, "max_connections_per_ip = 50", "max_connections_per_ip = 500"), 14,
         "'server.limits.max_connections_per_ip' (500) must be below 'server.max_connections' (500)"},
        {"per-address limit not an integer",
         replace(g, "max_connections_per_ip = 50", "max_connections_per_ip = \"many\""), 14, "integer"},
    });
}

TEST_CASE("forwarded header names print as they are written in the file", "[config][server]") {
    CHECK(std::string(forwarded_header_name(ForwardedHeader::x_forwarded_for)) == "x-forwarded-for");
    CHECK(std::string(forwarded_header_name(ForwardedHeader::forwarded)) == "forwarded");
    CHECK(std::string(forwarded_header_name(ForwardedHeader::both)) == "both");
    CHECK(std::string(forwarded_header_name(ForwardedHeader::none)) == "none");
}

TEST_CASE("http2: on by default on TLS listeners only, limits load, bad values are refused with file:line",
          "[config][server][h2]") {
    const Config c = loaded(kServerFileText, "srv.conf");
    REQUIRE(c.server);
    CHECK_FALSE(c.server->listeners[0].http2);  // plain: h2c only when asked
    CHECK(c.server->listeners[1].http2);        // TLS: h2 offered by ALPN
    CHECK(c.server->http2.max_concurrent_streams == 100);
    CHECK(c.server->http2.max_header_list_bytes == 65536);
    CHECK(c.server->http2.reset_burst == 1000);
    CHECK(c.server->http2.reset_rate == 33);
    CHECK(c.server->http2.max_continuations == 8);

    std::string t = replace(kServerFileText, "port = 8080;", "port = 8080; http2 = true;");
    t = replace(t, "port = 8443; tls = true;", "port = 8443; tls = true; http2 = false;");
    t = replace(t, "access_log = \"stderr\";",
                "access_log = \"stderr\"; http2 = { max_concurrent_streams = 50; max_header_list_bytes = 8192; "
                "initial_window_bytes = 1048576; reset_burst = 200; reset_rate = 10; max_queued_acks = 500; "
                "max_settings_entries = 16; max_continuations = 4; max_empty_frames = 20; };");
    const Config w = loaded(t, "srv.conf");
    CHECK(w.server->listeners[0].http2);
    CHECK_FALSE(w.server->listeners[1].http2);
    const Http2Limits& h = w.server->http2;
    CHECK(h.max_concurrent_streams == 50);
    CHECK(h.max_header_list_bytes == 8192);
    CHECK(h.initial_window_bytes == 1048576);
    CHECK(h.reset_burst == 200);
    CHECK(h.reset_rate == 10);
    CHECK(h.max_queued_acks == 500);
    CHECK(h.max_settings_entries == 16);
    CHECK(h.max_continuations == 4);
    CHECK(h.max_empty_frames == 20);

    const std::string& g = kServerFileText;
    check_refusals("srv.conf", {
        {"http2 not a boolean", replace(g, "port = 8080;", "port = 8080; http2 = \"yes\";"), 6,
         "must be true or false"},
        {"unknown http2 key", replace(g, "access_log = \"stderr\";", "access_log = \"stderr\"; http2 = { streams = 5; };"),
         16, "unknown setting 'streams'"},
        {"no streams at all",
         replace(g, "access_log = \"stderr\";", "access_log = \"stderr\"; http2 = { max_concurrent_streams = 0; };"), 16,
         "out of range"},
        {"window below the RFC's frame size",
         replace(g, "access_log = \"stderr\";", "access_log = \"stderr\"; http2 = { initial_window_bytes = 100; };"), 16,
         "out of range"},
        {"http2 not a group", replace(g, "access_log = \"stderr\";", "access_log = \"stderr\"; http2 = 1;"), 16, "must be a group"},
    });
}
