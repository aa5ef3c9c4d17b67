// The pure parts of a configuration reload: which listeners are kept, added or removed; which back ends carry
// their state over; what only a restart changes. Without sockets or threads.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config.hpp"
#include "reload/reload_plan.hpp"

using namespace dlba;
using namespace dlba::server;

namespace {

ListenerConfig listener(uint32_t address, uint16_t port, bool tls = false, const std::string& service = "web") {
    ListenerConfig l;
    l.address = address;
    l.port = port;
    l.tls = tls;
    l.service = service;
    return l;
}

BackendConfig backend(const std::string& key, uint32_t address, uint16_t port) {
    BackendConfig b;
    b.key = key;
    b.address = address;
    b.port = port;
    return b;
}

constexpr uint32_t kLo = 0x7f000001;  // 127.0.0.1

}  // namespace

TEST_CASE("listeners are diffed by address and port; tls and service changes keep the socket", "[reload]") {
    struct Case {
        const char* what;
        std::vector<ListenerConfig> before, after;
        std::vector<std::pair<size_t, size_t>> kept;
        std::vector<size_t> added, removed;
    };
    const std::vector<Case> cases = {
        {"nothing running: all added", {}, {listener(kLo, 80), listener(kLo, 443, true)}, {}, {0, 1}, {}},
        {"same list", {listener(kLo, 80)}, {listener(kLo, 80)}, {{0, 0}}, {}, {}},
        {"tls and service change, same socket", {listener(kLo, 80)}, {listener(kLo, 80, true, "img")}, {{0, 0}}, {}, {}},
        {"one added, one removed, one kept (reordered)",
         {listener(kLo, 80), listener(kLo, 81)},
         {listener(kLo, 82), listener(kLo, 80)},
         {{0, 1}},
         {0},
         {1}},
        {"same port on another address is another listener", {listener(kLo, 80)}, {listener(kLo + 1, 80)}, {}, {0}, {0}},
        {"all removed", {listener(kLo, 80), listener(kLo, 81)}, {}, {}, {}, {0, 1}},
    };
    for (const Case& c : cases) {
        INFO(c.what);
        const ListenerDiff d = diff_listeners(c.before, c.after);
        CHECK(d.kept == c.kept);
        CHECK(d.added == c.added);
        CHECK(d.removed == c.removed);
    }
    CHECK(format_listener({kLo, 8080}) == "127.0.0.1:8080");
}

TEST_CASE("a back end continues when its key, address and port are unchanged", "[reload]") {
    const std::vector<BackendConfig> before = {backend("a", 1, 80), backend("b", 2, 80), backend("c", 3, 80),
                                               backend("d", 4, 80)};
    const std::vector<BackendConfig> after = {backend("d", 4, 80),   // moved in the list: continues
                                              backend("a", 1, 80),   // continues
                                              backend("b", 2, 8080),  // same key, another port: new
                                              backend("c", 9, 80),   // same key, another address: new
                                              backend("e", 3, 80)};  // c's address under another key: new
    const auto m = match_backends(before, after);
    REQUIRE(m.size() == 5);
    CHECK(m[0] == std::optional<size_t>(3));
    CHECK(m[1] == std::optional<size_t>(0));
    CHECK(!m[2]);
    CHECK(!m[3]);
    CHECK(!m[4]);
}

TEST_CASE("the number of workers and the monitor socket need a restart; everything else does not", "[reload]") {
    ServerConfig running, next;
    CHECK(restart_only_changes(running, next).empty());
    next.max_connections = 5;
    next.timeouts.idle_ms = 1;
    next.access_log = "/tmp/x.log";
    next.listeners.push_back(listener(kLo, 80));
    CHECK(restart_only_changes(running, next).empty());
    next.workers = 4;
    next.monitor_socket = "/run/other.sock";
    const auto r = restart_only_changes(running, next);
    REQUIRE(r.size() == 2);
    CHECK(r[0] == "server.workers (running 0, file 4)");
    CHECK(r[1] == "server.monitor_socket (running /run/dlba/server.sock, file /run/other.sock)");
}
