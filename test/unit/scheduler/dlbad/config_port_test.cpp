// The config port's ordering rules with a fake scheduler link and the files in a temporary directory:
// PREPARE stages a checked file, COMMIT replaces the running one only under the prepared id, ABORT drops it.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <string>

#include "config_port.hpp"
#include "dlbad_fakes.hpp"
#include "protocol/push.hpp"
#include "io/table_format.hpp"

using namespace dlba;
using namespace dlba::dlbad;
using namespace dlba::dlbad::test;
namespace push = dlba::proto::push;

namespace {

struct Port {
    TempDir dir;
    std::string path = dir.file("dlba.conf");
    std::string staged = path + ".staged";
    Config running = array_config();
    FakeLink link;
    int committed = 0;
    ConfigPort port{running, 1, path, link, [](std::string_view t) { return "table " + std::string(t); },
                    [this] { ++committed; }};

    Port() { write_file(path, array_text()); }

    // PREPARE <id> <length> with `body` after the line; `id` defaults to the body's own.
    std::string prepare(const std::string& body, std::string id = "") {
        if (id.empty()) id = push::config_id(body);
        return port.answer("PREPARE " + id + " " + std::to_string(body.size()), [&body](char* out, size_t n) {
            if (n > body.size()) return false;
            std::memcpy(out, body.data(), n);
            return true;
        });
    }
    std::string request(const std::string& line) {
        return port.answer(line, [](char*, size_t) { return false; });
    }
    bool staged_exists() const { return std::filesystem::exists(staged); }
};

// A new file for the same array: one more TCP port.
const std::string kNext = array_text() + "\n# next\n";

}  // namespace

TEST_CASE("config port: PREPARE stages a checked file, COMMIT puts it in force and reloads", "[config-port]") {
    Port p;
    const std::string id = push::config_id(kNext);
    CHECK(p.prepare(kNext) == "OK prepared " + id + " on node 1\n");
    CHECK(p.staged_exists());
    CHECK(read_file(p.staged) == kNext);
    CHECK(p.link.asked("check_reload " + p.staged));  // the scheduler checks what it can take
    CHECK(p.committed == 0);
    CHECK(p.request("COMMIT " + id) == "OK node 1 committed " + id + "\n");
    CHECK(read_file(p.path) == kNext);
    CHECK_FALSE(p.staged_exists());
    CHECK(p.link.asked("reload"));
    CHECK(p.committed == 1);
}

TEST_CASE("config port: COMMIT without PREPARE is refused and changes nothing", "[config-port]") {
    Port p;
    CHECK(p.request("COMMIT 0123456789abcdef") == "ERR nothing prepared under 0123456789abcdef\n");
    CHECK(read_file(p.path) == array_text());
    CHECK_FALSE(p.link.asked("reload"));
    CHECK(p.committed == 0);
}

TEST_CASE("config port: COMMIT under another id than the prepared one is refused", "[config-port]") {
    Port p;
    REQUIRE(p.prepare(kNext).rfind("OK", 0) == 0);
    CHECK(p.request("COMMIT 0123456789abcdef") == "ERR nothing prepared under 0123456789abcdef\n");
    CHECK(read_file(p.path) == array_text());
    CHECK(p.staged_exists());  // still there for the right COMMIT
    CHECK(p.request("COMMIT " + push::config_id(kNext)).rfind("OK node 1 committed", 0) == 0);
}

TEST_CASE("config port: ABORT drops the staged file, and a COMMIT after it is refused", "[config-port]") {
    Port p;
    const std::string id = push::config_id(kNext);
    REQUIRE(p.prepare(kNext).rfind("OK", 0) == 0);
    CHECK(p.request("ABORT 0123456789abcdef") == "OK aborted\n");  // someone else's: kept
    CHECK(p.staged_exists());
    CHECK(p.request("ABORT " + id) == "OK aborted\n");
    CHECK_FALSE(p.staged_exists());
    CHECK(p.request("COMMIT " + id) == "ERR nothing prepared under " + id + "\n");
    CHECK(read_file(p.path) == array_text());
}

TEST_CASE("config port: a body that does not match its id is refused before anything is written", "[config-port]") {
    Port p;
    CHECK(p.prepare(kNext, "0123456789abcdef") == "ERR body does not match its id\n");
    CHECK_FALSE(p.staged_exists());
    CHECK(p.port.answer("PREPARE " + push::config_id(kNext) + " " + std::to_string(kNext.size()),
                        [](char*, size_t) { return false; }) == "ERR short body\n");
    CHECK(p.request("PREPARE " + push::config_id(kNext) + " " + std::to_string(push::kMaxConfigBytes + 1)) == "ERR file too large\n");
}

TEST_CASE("config port: a pushed file with @include is refused before anything is read", "[config-port]") {
    Port p;
    CHECK(p.prepare(kNext + "@include \"/etc/shadow\"\n") == "ERR @include is not allowed in a pushed file\n");
    CHECK_FALSE(p.staged_exists());
    CHECK_FALSE(p.link.asked("check_reload " + p.staged));
}

TEST_CASE("config port: a file the scheduler refuses is not staged", "[config-port]") {
    Port p;
    p.link.scheduler_check = refused_reply("table_size cannot change without a restart");
    CHECK(p.prepare(kNext) == "ERR scheduler: table_size cannot change without a restart\n");
    CHECK_FALSE(p.staged_exists());
    CHECK(p.request("COMMIT " + push::config_id(kNext)).rfind("ERR nothing prepared", 0) == 0);

    p.link.scheduler_check = no_answer();
    CHECK(p.prepare(kNext) == "ERR scheduler: no answer\n");
    CHECK_FALSE(p.staged_exists());
}

TEST_CASE("config port: a file that does not load, or moves this node, is not staged", "[config-port]") {
    Port p;
    const std::string bad = array_text() + "bogus = 1;\n";
    const std::string answer = p.prepare(bad);
    CHECK(answer.rfind("ERR " + p.staged + ":", 0) == 0);  // file:line: reason
    CHECK_FALSE(p.staged_exists());
    CHECK_FALSE(p.link.asked("check_reload " + p.staged));

    std::string moved = array_text();
    moved.replace(moved.find("10.77.0.11"), 10, "10.77.0.99");
    CHECK(p.prepare(moved) == "ERR this node's eth0_ip cannot change by a push\n");
    CHECK_FALSE(p.staged_exists());
}

TEST_CASE("config port: the server checks a file with a server section; one not running is noted", "[config-port]") {
    Port p;
    p.link.server_socket = true;
    const std::string with_server = array_text(R"(server = { listeners = ( { port = 80; service = "web"; } ); };
backends = ( { key = "a"; address = "10.0.0.1"; } );
services = ( { name = "web"; backends = ["a"]; } );
)");
    p.link.server_check = refused_reply("cannot bind 10.77.0.100:80");
    CHECK(p.prepare(with_server) == "ERR server: cannot bind 10.77.0.100:80\n");
    CHECK_FALSE(p.staged_exists());
    p.link.server_check = no_answer("no such socket: /run/dlba/server.sock");
    CHECK(p.prepare(with_server) == "OK prepared " + push::config_id(with_server) +
                                        " on node 1 (server not checked: no such socket: /run/dlba/server.sock)\n");
    CHECK(p.staged_exists());
}

TEST_CASE("config port: SHOW and ADMIN are passed to the right daemon, others refused", "[config-port]") {
    Port p;
    CHECK(p.request("SHOW failover") == "table failover\n");
    CHECK(p.request("SHOW hash all 2") == std::string(R"({"ok":true})") + "\n");
    CHECK(p.link.asked("scheduler: hash all 2"));
    CHECK(p.request("SHOW backends").find("not a read-only table: backends") != std::string::npos);  // no server
    CHECK(p.request("ADMIN node 2 drain") == std::string(R"({"ok":true})") + "\n");
    CHECK(p.link.asked("scheduler: node 2 drain"));
    CHECK(p.request("ADMIN node 2 fail").find("not an admin command: node 2 fail") != std::string::npos);
    CHECK(p.request("ADMIN backend a drain").find("no DLBA server here") != std::string::npos);
    p.link.passed = no_answer("no such socket");
    CHECK(p.request("SHOW status") == io::reply_error("scheduler: no such socket") + "\n");
    CHECK(p.request("HELLO") == "ERR bad request\n");
    CHECK(p.request("SHOW").find("not a read-only table") != std::string::npos);
}

namespace {

const std::string kKey1 = "6b1f0c2e9d4a7f3851c0e2b9a4d7f6c31e8b0a5d2f9c4e7b1a3d6f0c8e2b5a94";
const std::string kKey2 = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

// array_text() with failover.peer_keys = keys (none: the line left out).
std::string keyed_text(const std::vector<std::string>& keys) {
    std::string t = array_text();
    std::string list;
    for (const auto& k : keys) list += (list.empty() ? "\"" : ", \"") + k + "\"";
    const std::string anchor = "sweep_delay_ms = 1000;";
    if (!keys.empty()) t.replace(t.find(anchor), anchor.size(), anchor + " peer_keys = [" + list + "];");
    return t;
}

struct KeyedPort {
    TempDir dir;
    std::string path = dir.file("dlba.conf");
    Config running = std::get<Config>(parse_config(keyed_text({kKey1}), "unit.conf"));
    FakeLink link;
    ConfigPort port{running, 1, path, link, [](std::string_view) { return std::string(); }, [] {}};

    KeyedPort() { write_file(path, keyed_text({kKey1})); }
    std::string prepare(const std::string& body) {
        return port.answer("PREPARE " + push::config_id(body) + " " + std::to_string(body.size()),
                           [&body](char* out, size_t n) {
                               if (n > body.size()) return false;
                               std::memcpy(out, body.data(), n);
                               return true;
                           });
    }
};

}  // namespace

TEST_CASE("config port: a file whose peer keys the running nodes do not hold is refused", "[config-port][auth]") {
    KeyedPort p;
    CHECK(p.prepare(keyed_text({kKey2})).find("lock each other out") != std::string::npos);
    CHECK(p.prepare(keyed_text({})).find("peer_keys") != std::string::npos);  // keys left out: not insecure
    CHECK(p.prepare(keyed_text({kKey2, kKey1})).rfind("OK prepared", 0) == 0);  // rotation step: both held
}
