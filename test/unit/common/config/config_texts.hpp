// The configuration texts the section tests load and edit, and the helpers that load, edit and refuse them. The
// error cases give line numbers in these texts, so every test file edits the same ones.
#pragma once

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <string>
#include <variant>

#include <unistd.h>

#include "config/config.hpp"

namespace dlba::config_test {

// A small valid array: the array, scheduler and nodes sections, loaded as "test.conf".
inline const std::string kArrayText = R"(# a small valid array
array = {
  name = "test";
  vip = "10.77.0.100";
  tcp_ports = [80, 443];
};
scheduler = {
  table_size = 4096;
  hash = "seed_sum";
  bucket_idle_timeout = 30;
  idle_poll = { spin_polls = 10; sleep_min_us = 5; sleep_max_us = 500; };
};
nodes = (
  { number = 1; eth0_mac = "02:77:00:00:01:01"; eth0_ip = "10.77.0.11";
    sched_mac = "02:77:00:00:02:01"; sched_ip = "10.77.0.21"; weight = 2; },
  { number = 2; eth0_mac = "02:77:00:00:01:02"; eth0_ip = "10.77.0.12";
    sched_mac = "02:77:00:00:02:02"; sched_ip = "10.77.0.22"; enabled = false; }
);
)";

// The array part of a file with the DLBA server's sections (lines 1-3), loaded as "srv.conf".
inline const std::string kServerArrayText = R"(array = { vip = "10.77.0.100"; tcp_ports = [80, 443]; };
nodes = ( { number = 1; eth0_mac = "02:77:00:00:01:01"; eth0_ip = "10.77.0.11";
            sched_mac = "02:77:00:00:02:01"; sched_ip = "10.77.0.21"; } );
)";

// Every server section with a value for nearly every key, from line 4 of kServerFileText.
inline const std::string kServerSectionsText = R"(server = {
  listeners = (
    { address = "127.0.0.1"; port = 8080; service = "web"; },
    { port = 8443; tls = true; service = "web"; }
  );
  workers = 2;
  monitor_socket = "/tmp/dlba-test.sock"; max_connections = 500;
  timeouts = { header_ms = 5000; idle_ms = 20000; body_ms = 7000; backend_connect_ms = 800;
               backend_response_ms = 9000; shutdown_ms = 3000; handshake_ms = 2000; tunnel_ms = 120000; };
  limits = { max_header_bytes = 16384; max_header_count = 50; max_uri_bytes = 4096; max_body_bytes = 1000000;
             max_connections_per_ip = 50; };
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
    inject_cookie = "Srv"; strip_injected = false; upgrade_protocols = ["websocket", "h2c"]; }
);
)";

inline const std::string kServerFileText = kServerArrayText + kServerSectionsText;

// The least a file with a server needs: every server default applies.
inline const std::string kServerDefaultsText = kServerArrayText + R"(
backends = ( { key = "a"; address = "10.0.0.1"; } );
services = ( { name = "s"; backends = ["a"]; } );
server = { listeners = ( { port = 80; service = "s"; } ); };
)";

inline Config loaded(const std::string& text, const std::string& file) {
    ConfigResult r = parse_config(text, file);
    if (auto* e = std::get_if<ConfigError>(&r)) FAIL(e->str());
    return std::get<Config>(r);
}

inline std::string replace(std::string text, const std::string& from, const std::string& to) {
    const size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

// Drops the text from `from` up to and including `to` (a whole setting or section).
inline std::string cut(std::string text, const std::string& from, const std::string& to) {
    const size_t a = text.find(from);
    REQUIRE(a != std::string::npos);
    const size_t b = text.find(to, a);
    REQUIRE(b != std::string::npos);
    return text.erase(a, b + to.size() - a);
}

struct RefusalCase {
    const char* what;
    std::string text;
    int line;  // 0: the error is not tied to a line, so it is not checked
    const char* reason_part;
};

// Each text is refused as `file`, at the case's line, with a reason that contains the case's words.
inline void check_refusals(const std::string& file, std::initializer_list<RefusalCase> cases) {
    for (const RefusalCase& c : cases) {
        INFO(c.what);
        ConfigResult r = parse_config(c.text, file);
        REQUIRE(std::holds_alternative<ConfigError>(r));
        const ConfigError& e = std::get<ConfigError>(r);
        INFO(e.str());
        CHECK(e.file == file);
        if (c.line > 0) CHECK(e.line == c.line);
        CHECK(e.reason.find(c.reason_part) != std::string::npos);
        CHECK(e.str().rfind(file + ":", 0) == 0);
    }
}

// One setting of a section, as text: the value one file gives it, and the default when another leaves it out.
template <class Section>
struct SettingCase {
    const char* key;
    std::string (*value)(const Section&);
    const char* in_file;
    const char* fallback;
};

// `written` is the section loaded from a file that sets (most of) its keys, `bare` from one that sets none.
template <class Section>
void check_settings(const Section& written, const Section& bare, std::initializer_list<SettingCase<Section>> cases) {
    for (const SettingCase<Section>& c : cases) {
        INFO(c.key);
        CHECK(c.value(written) == c.in_file);
        CHECK(c.value(bare) == c.fallback);
    }
}

// A configuration file on disk for the loaders that take a path; removed when the test ends.
class TempConfigFile {
public:
    explicit TempConfigFile(const std::string& text) {
        const int fd = mkstemp(path_);
        REQUIRE(fd >= 0);
        close(fd);
        std::ofstream out(path_);
        out << text;
    }
    ~TempConfigFile() { std::remove(path_); }
    TempConfigFile(const TempConfigFile&) = delete;
    TempConfigFile& operator=(const TempConfigFile&) = delete;

    const char* path() const { return path_; }

private:
    char path_[29] = "/tmp/dlba-config-test-XXXXXX";
};

}  // namespace dlba::config_test
