// The pure parts of a configuration reload: which listeners are kept, added or removed; which back ends carry
// their state over (and that it really is the same state: admin, health, average, in flight, counters); what only
// a restart changes. Built from configuration text, without sockets or threads.
#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include "../server_fixture.hpp"
#include "config/config.hpp"
#include "net/shared.hpp"
#include "reload/reload_plan.hpp"
#include "status/monitor.hpp"

using namespace dlba;
using namespace dlba::server;

namespace {

Config load(const std::string& server_and_backends) { return test::load_sections(server_and_backends); }

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

namespace {

const char* kBefore = R"(
backends = ( { key = "a"; address = "10.0.0.1"; weight = 2; },
             { key = "b"; address = "10.0.0.2"; },
             { key = "c"; address = "10.0.0.3"; } );
services = ( { name = "web"; backends = ["a", "b", "c"]; policy = "least_conn"; } );
server = { listeners = ( { port = 80; service = "web"; } ); };
)";

// b removed, d added, a's weight changed and moved in the list, c kept, the policy changed.
const char* kAfter = R"(
backends = ( { key = "d"; address = "10.0.0.4"; },
             { key = "c"; address = "10.0.0.3"; },
             { key = "a"; address = "10.0.0.1"; weight = 5; } );
services = ( { name = "web"; backends = ["a", "c", "d"]; policy = "response_time"; } );
server = { listeners = ( { port = 80; service = "web"; }, { port = 8080; service = "web"; } ); };
)";

}  // namespace

TEST_CASE("a new generation shares the state of continuing back ends and starts the others afresh", "[reload]") {
    const Generation g1(load(kBefore), 1, 2, 1, 100, nullptr);
    BackendState& a = *g1.backends[0];
    a.set_admin(BackendAdmin::drain);   // the operator's `backend a drain`
    a.mark_down(1000, 5000);            // a failed connect
    a.record_response_time(40);
    a.begin_request();                  // a request in flight across the reload
    a.counters(1).hits.add(9);
    a.counters(0).errors.add(2);
    g1.backends[1]->counters(0).hits.add(3);  // b

    const Generation g2(load(kAfter), 1, 2, 2, 200, &g1);
    REQUIRE(g2.backends.size() == 3);
    CHECK(g2.continues[0] == std::nullopt);           // d
    CHECK(g2.continues[1] == std::optional<size_t>(2));  // c
    CHECK(g2.continues[2] == std::optional<size_t>(0));  // a
    CHECK(g2.backends[2].get() == &a);                // the very same state object
    CHECK(g2.backends[1] == g1.backends[2]);
    CHECK(g2.backends[0]->counters(0).hits.get() == 0);
    CHECK(g2.balancers[0].service().policy == BalancePolicy::response_time);
    CHECK(g2.number == 2);
    CHECK(g2.loaded_unix == 200);

    // Building the generation changes nothing in force; publishing applies the file's weight.
    CHECK(a.weight() == 2);
    carry_settings(g2, g1);
    CHECK(a.weight() == 5);
    CHECK(a.admin() == BackendAdmin::drain);  // the operator's drain survives a file that did not touch 'enabled'
    CHECK(a.down(2000));
    CHECK(a.average_ms() == Approx(40));
    CHECK(a.active() == 1);
    a.end_request();  // the old generation's request ends on the same object
    CHECK(a.active() == 0);

    // The table of the new generation: a's counters carried, b gone, d new.
    ProcessFacts facts;
    facts.now_ms = 2000;
    const io::Table t = backends_table(g2, facts);
    REQUIRE(t.rows.size() == 3);
    CHECK(t.rows[0][0] == "d");
    CHECK(t.rows[2][0] == "a");
    CHECK(t.rows[2][3] == "down");
    CHECK(t.rows[2][4] == 5);   // weight
    CHECK(t.rows[2][6] == 9);   // hits
    CHECK(t.rows[2][8] == 2);   // errors
    CHECK(t.meta["config_generation"] == 2);
}

TEST_CASE("a change of a back end's enabled flag in the file overrides the operator's admin state", "[reload]") {
    const Generation g1(load(kBefore), 1, 1, 1, 0, nullptr);
    g1.backends[0]->set_admin(BackendAdmin::drain);
    g1.backends[2]->set_admin(BackendAdmin::disabled);
    std::string after = kBefore;
    const std::string was = R"(weight = 2; })";
    after.replace(after.find(was), was.size(), R"(weight = 2; enabled = false; })");
    const Generation g2(load(after), 1, 1, 2, 0, &g1);
    carry_settings(g2, g1);
    CHECK(g2.backends[0]->admin() == BackendAdmin::disabled);  // the file changed: the file wins
    CHECK(g2.backends[2]->admin() == BackendAdmin::disabled);  // the file did not change: the operator's stays
}
