// The monitor socket's answers: the back-end status table and the node status in the one table format, and the
// back-end admin commands. Built from counters and state directly, without sockets.
#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include "config/config.hpp"
#include "io/table_format.hpp"
#include "net/shared.hpp"
#include "status/monitor.hpp"

using namespace dlba;
using namespace dlba::server;

namespace {

const char* kConfig = R"(array = { vip = "127.0.0.1"; tcp_ports = [80]; };
nodes = ( { number = 2; eth0_mac = "02:77:00:00:01:01"; eth0_ip = "10.77.0.11";
            sched_mac = "02:77:00:00:02:01"; sched_ip = "10.77.0.21"; } );
backends = ( { key = "a"; address = "10.0.0.1"; port = 8080; weight = 3; },
             { key = "b"; address = "10.0.0.2"; enabled = false; } );
services = ( { name = "web"; backends = ["a", "b"]; }, { name = "img"; backends = ["a"]; } );
server = { listeners = ( { port = 80; service = "web"; } ); };
)";

Config load(const std::string& text) {
    ConfigResult r = parse_config(text, "t.conf");
    if (auto* e = std::get_if<ConfigError>(&r)) FAIL(e->str());
    return std::get<Config>(r);
}

std::vector<nlohmann::json> row_of(const io::Table& t, const std::string& key) {
    for (const auto& row : t.rows) {
        if (row[0] == key) return row;
    }
    FAIL("no row " << key);
    return {};
}

size_t column(const io::Table& t, const std::string& name) {
    for (size_t i = 0; i < t.columns.size(); ++i) {
        if (t.columns[i].name == name) return i;
    }
    FAIL("no column " << name);
    return 0;
}

}  // namespace

TEST_CASE("the back-end status table sums the workers and shows each back end's state", "[monitor]") {
    const Generation gen(load(kConfig), 2, 2, 1, 0, nullptr);
    gen.backends[0]->counters(0).hits.add(5);
    gen.backends[0]->counters(1).hits.add(7);
    gen.backends[0]->counters(1).errors.add(1);
    gen.backends[0]->counters(1).connect_failures.add(1);
    gen.backends[0]->counters(0).cookie_groups.add(2);
    gen.backends[0]->begin_request();
    gen.backends[0]->record_response_time(12.5);
    gen.backends[0]->mark_down(1000, 500);
    ProcessFacts facts;
    facts.now_ms = 1200;
    facts.workers = 2;

    const io::Table t = backends_table(gen, facts);
    std::string err;
    CHECK(t.validate(&err));
    INFO(err);
    CHECK(t.name == "backends");
    CHECK(t.source == "server");
    CHECK(t.meta["node"] == 2);
    const auto a = row_of(t, "a");
    CHECK(a[column(t, "address")] == "10.0.0.1");
    CHECK(a[column(t, "port")] == 8080);
    CHECK(a[column(t, "state")] == "down");
    CHECK(a[column(t, "weight")] == 3);
    CHECK(a[column(t, "open_conns")] == 1);
    CHECK(a[column(t, "hits")] == 12);
    CHECK(a[column(t, "errors")] == 1);
    CHECK(a[column(t, "connect_failures")] == 1);
    CHECK(a[column(t, "avg_resp_ms")] == Approx(12.5));
    CHECK(a[column(t, "services")] == "web,img");
    CHECK(a[column(t, "cookie_groups")] == 2);
    const auto b = row_of(t, "b");
    CHECK(b[column(t, "state")] == "disabled");
    CHECK(b[column(t, "avg_resp_ms")].is_null());  // never measured: not known, not zero
    CHECK(b[column(t, "port")] == 80);

    facts.now_ms = 1500;  // the down interval has passed
    CHECK(row_of(backends_table(gen, facts), "a")[column(t, "state")] == "up");
}

TEST_CASE("the status table counts the node's connections and answers", "[monitor]") {
    const Generation gen(load(kConfig), 2, 2, 7, 1700000000, nullptr);
    WorkerStats w1, w2;
    w1.connections_open.add(3);
    w2.connections_open.add(1);
    w1.requests.add(10);
    w2.requests.add(5);
    w1.responses[2].add(14);
    w2.responses[5].add(1);
    w2.tls_resumed.add(2);
    w1.connections_refused_per_ip.add(6);
    w2.connections_refused_per_ip.add(1);
    w2.handshake_timeouts.add(3);
    const std::vector<const WorkerStats*> workers{&w1, &w2};
    const io::Table t = status_table(gen, workers, ProcessFacts{});
    std::string err;
    CHECK(t.validate(&err));
    std::map<std::string, uint64_t> v;
    for (const auto& row : t.rows) v[row[0].get<std::string>()] = row[1].get<uint64_t>();
    CHECK(v["connections_open"] == 4);
    CHECK(v["requests"] == 15);
    CHECK(v["responses_2xx"] == 14);
    CHECK(v["responses_5xx"] == 1);
    CHECK(v["tls_resumed"] == 2);
    CHECK(v["connections_refused_per_ip"] == 7);
    CHECK(v["handshake_timeouts"] == 3);
    CHECK(t.meta["max_connections_per_ip"] == 0);  // no limit in kConfig
    CHECK(t.meta["listeners"] == "127.0.0.1:80 http web");
    CHECK(t.meta["config_generation"] == 7);
    CHECK(t.meta["config_loaded_unix"] == 1700000000);
}

TEST_CASE("the answer to the status sweep: the back-end rows, the counters in the meta, healthy", "[monitor]") {
    const Generation gen(load(kConfig), 2, 1, 3, 0, nullptr);
    gen.backends[0]->counters(0).hits.add(9);
    WorkerStats w;
    w.connections_open.add(2);
    w.requests.add(11);
    const std::vector<const WorkerStats*> workers{&w};
    const io::Table t = node_status_table(gen, workers, ProcessFacts{}, 1700000123);
    std::string err;
    CHECK(t.validate(&err));
    INFO(err);
    CHECK(t.name == "node-status");
    CHECK(t.source == "dlba-server");
    CHECK(t.meta["node"] == 2);
    CHECK(t.meta["time"] == 1700000123);
    CHECK(t.meta["healthy"] == true);
    CHECK(t.meta["server"] == "dlba-server");
    CHECK(t.meta["connections_open"] == 2);
    CHECK(t.meta["requests"] == 11);
    // The rows are the back-end table's, which the sweeping daemon sums into the summary table.
    REQUIRE(t.rows.size() == 2);
    CHECK(row_of(t, "a")[column(t, "hits")] == 9);
    CHECK(row_of(t, "b")[column(t, "state")] == "disabled");
}

TEST_CASE("monitor requests: tables, back-end admin commands and errors", "[monitor]") {
    const Generation gen(load(kConfig), 2, 1, 1, 0, nullptr);
    WorkerStats w;
    const std::vector<const WorkerStats*> workers{&w};
    const ProcessFacts facts;
    const auto ask = [&](const std::string& line) { return nlohmann::json::parse(handle_monitor_request(line, gen, workers, facts)); };

    CHECK(ask("backends")["table"] == "backends");
    CHECK(ask("status")["table"] == "status");
    CHECK(ask("backend a drain")["ok"] == true);
    CHECK(gen.backends[0]->admin() == BackendAdmin::drain);
    CHECK(ask("backend b enable")["ok"] == true);
    CHECK(gen.backends[1]->status(0) == BackendStatus::up);
    CHECK(ask("backend a disable")["ok"] == true);
    CHECK(gen.backends[0]->status(0) == BackendStatus::disabled);
    CHECK(ask("backend zz drain")["ok"] == false);
    CHECK(ask("backend a explode")["ok"] == false);
    CHECK(ask("backend a")["ok"] == false);
    CHECK(ask("hash")["ok"] == false);
    CHECK(ask("reload")["ok"] == false);  // no reloader given: unknown
}

TEST_CASE("monitor requests reload and check-reload go to the reloader", "[monitor][reload]") {
    const Generation gen(load(kConfig), 2, 1, 1, 0, nullptr);
    const std::vector<const WorkerStats*> workers;
    int reloads = 0;
    std::string checked;
    const ReloadCommands commands{[&] { ++reloads; return io::reply_ok("reloaded"); },
                                  [&](const std::string& path) { checked = path; return io::reply_error("bad"); }};
    const auto ask = [&](const std::string& line) {
        return nlohmann::json::parse(handle_monitor_request(line, gen, workers, ProcessFacts{}, &commands));
    };
    CHECK(ask("reload")["ok"] == true);
    CHECK(reloads == 1);
    CHECK(ask("reload now")["ok"] == false);
    CHECK(reloads == 1);
    CHECK(ask("check-reload /etc/dlba/new.conf")["error"] == "bad");
    CHECK(checked == "/etc/dlba/new.conf");
    CHECK(ask("check-reload")["ok"] == false);
}

TEST_CASE("the shipped example configuration has valid server sections", "[monitor][config]") {
    ConfigResult r = load_config(DLBA_SOURCE_ROOT "/conf/dlba.conf");
    if (auto* e = std::get_if<ConfigError>(&r)) FAIL(e->str());
    const Config& c = std::get<Config>(r);
    REQUIRE(c.server);
    CHECK(c.server->listeners.size() >= 2);
    CHECK(c.backends.size() == 3);
    CHECK(c.service("web") != nullptr);
    CHECK(c.service("web")->policy == BalancePolicy::cookie);
    REQUIRE(c.tls);
    CHECK(c.tls->ticket_keys.size() == 1);
}

TEST_CASE("the sweep answer is a typed NodeStatus, and its table reads back as the same", "[monitor][node_status]") {
    const Generation gen(load(kConfig), 2, 1, 3, 0, nullptr);
    gen.backends[0]->counters(0).hits.add(9);
    gen.backends[0]->counters(0).cookie_groups.add(2);
    WorkerStats w;
    w.connections_open.add(2);
    const std::vector<const WorkerStats*> workers{&w};
    const proto::NodeStatus s = node_status(gen, workers, ProcessFacts{}, 1700000123);
    CHECK(s.node == 2);
    CHECK(s.server == "dlba-server");
    CHECK(s.counter("connections_open") == 2u);
    REQUIRE(s.backends.size() == 2);
    CHECK(s.backends[0].key == "a");
    CHECK(s.backends[0].hits == 9);
    CHECK(s.backends[1].state == "disabled");
    CHECK(node_status_table(gen, workers, ProcessFacts{}, 1700000123).to_json() == s.to_table().to_json());

    std::string err;
    const auto back = proto::NodeStatus::from_table(s.to_table(), &err);
    REQUIRE(back);
    const proto::NodeFigures f = proto::summarise(*back);
    CHECK(f.hits == 9u);
    CHECK(f.open_conns == 2u);
    // The back-end table has the same rows as the sweep answer.
    CHECK(backends_table(gen, ProcessFacts{}).rows == s.to_table().rows);
}

TEST_CASE("monitor requests are parsed by the protocol table", "[monitor]") {
    const Generation gen(load(kConfig), 2, 1, 1, 0, nullptr);
    const std::vector<const WorkerStats*> workers;
    const auto ask = [&](const std::string& line) {
        return nlohmann::json::parse(handle_monitor_request(line, gen, workers, ProcessFacts{}));
    };
    const std::string usage = "backend KEY enable|disable|drain | backend KEY in-service | backend KEY "
                              "out-of-service oos|maintenance|sticky|failed | backend KEY weight W";
    CHECK(ask("backend a explode")["error"] == "unknown backend action 'explode' (usage: " + usage + ")");
    CHECK(ask("backend a")["error"] == "usage: " + usage);
    // Seed 002's states and the run-time weight, shown in the admin column.
    CHECK(ask("backend a out-of-service maintenance")["ok"] == true);
    const io::Table shown = backends_table(gen, ProcessFacts{});
    CHECK(shown.to_json()["rows"][0][column(shown, "admin")] == "maintenance");
    CHECK(ask("backend a weight 7")["ok"] == true);
    CHECK(gen.backends[0]->weight() == 7u);
    CHECK(ask("backend a out-of-service failed")["ok"] == true);
    CHECK_FALSE(gen.backends[0]->usable_for_sticky(0));
    CHECK(ask("backend a out-of-service sticky")["ok"] == true);
    CHECK(gen.backends[0]->usable_for_sticky(0));
    CHECK_FALSE(gen.backends[0]->usable_for_new(0));
    CHECK(ask("backend a in-service")["ok"] == true);
    CHECK(gen.backends[0]->usable_for_new(0));
    CHECK(ask("backends now")["error"] == "backends takes no arguments");
    CHECK_THAT(ask("hash")["error"].get<std::string>(),
               Catch::Matchers::StartsWith("unknown request 'hash' (status | backends"));
    CHECK(ask("  backend   a   drain ")["ok"] == true);
}

TEST_CASE("self-diagnosis: no usable back end in any listener's service answers healthy false with the reason",
          "[monitor]") {
    const Generation gen(load(kConfig), 2, 1, 3, 0, nullptr);
    WorkerStats w;
    const std::vector<const WorkerStats*> workers{&w};
    ProcessFacts facts;
    facts.now_ms = 1000;
    CHECK(node_status(gen, workers, facts, 1).healthy);
    // "b" is disabled already; "a" marked down after a failed connect: nothing of "web" can take a request.
    gen.backends[0]->mark_down(1000, 500);
    const proto::NodeStatus down = node_status(gen, workers, facts, 1);
    CHECK_FALSE(down.healthy);
    CHECK(down.reason == "no usable back end in any listener's service (web)");
    const io::Table t = down.to_table();
    CHECK(t.meta["healthy"] == false);
    CHECK(t.meta["reason"] == down.reason);
    // The reader gets the verdict and its reason back, and "reason" is not taken for a counter.
    std::string err;
    const auto back = proto::NodeStatus::from_table(t, &err);
    REQUIRE(back);
    CHECK_FALSE(back->healthy);
    CHECK(back->reason == down.reason);
    CHECK(back->counters.count("reason") == 0);
    // Once its down interval has passed it is tried again: healthy.
    facts.now_ms = 1600;
    CHECK(node_status(gen, workers, facts, 1).healthy);
}
