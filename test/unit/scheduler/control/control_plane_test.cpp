// The scheduler's control plane on a real bucket table and command queue, with a fake data plane (a thread that
// applies each command to the table as the lcore would) and an injected clock for the active role's lease.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <variant>

#include "../eal_once.hpp"
#include "bucket_sync.hpp"
#include "control/control_plane.hpp"
#include "control/sync_steps.hpp"
#include "protocol/verbs.hpp"

using namespace dlba;
using namespace dlba::sched;
using namespace std::chrono_literals;

namespace {

std::string config_text(uint32_t weight2 = 1, uint32_t table_size = 1024) {
    std::string nodes;
    for (int n = 1; n <= 3; ++n) {
        const std::string d = std::to_string(n);
        nodes += std::string(n > 1 ? "," : "") + "{ number = " + d + "; eth0_mac = \"02:77:00:00:01:0" + d +
                 "\"; eth0_ip = \"10.77.0.1" + d + "\"; sched_mac = \"02:77:00:00:02:0" + d +
                 "\"; sched_ip = \"10.77.0.2" + d + "\";" + (n == 2 ? " weight = " + std::to_string(weight2) + ";" : "") +
                 " }";
    }
    return "array = { vip = \"10.77.0.100\"; tcp_ports = [80]; };\n"
           "scheduler = { table_size = " + std::to_string(table_size) + "; };\n"
           "nodes = ( " + nodes + " );\n";
}

// A configuration file of its own per test (reload reads the file again).
class ConfigFile {
public:
    explicit ConfigFile(const std::string& text)
        : path_("/tmp/dlba-cp-test-" + std::to_string(getpid()) + "-" + std::to_string(counter_++) + ".conf") {
        write(text);
    }
    ~ConfigFile() { std::remove(path_.c_str()); }
    void write(const std::string& text) const { std::ofstream(path_) << text; }
    const std::string& path() const { return path_; }

private:
    static inline int counter_ = 0;
    std::string path_;
};

ArrayConfig load(const std::string& path) {
    ArrayConfigResult r = load_array_config(path);
    if (auto* e = std::get_if<ConfigError>(&r)) FAIL(e->str());
    return std::get<ArrayConfig>(r);
}

// The data plane's side of the command queue, applying each command to the table the way the lcore does.
class FakeDataPlane {
public:
    FakeDataPlane(CommandQueue& queue, BucketTable& table, std::atomic<bool>& active)
        : thread_([this, &queue, &table, &active] {
              while (!stop_.load()) {
                  Command* cmds[8];
                  const unsigned n = queue.take(cmds, 8);
                  for (unsigned i = 0; i < n; ++i) apply(*cmds[i], table, active);
                  std::this_thread::sleep_for(50us);
              }
          }) {}
    ~FakeDataPlane() {
        stop_.store(true);
        thread_.join();
    }

private:
    static void apply(Command& c, BucketTable& table, std::atomic<bool>& active) {
        bool ok = true;
        switch (c.kind) {
            case CommandKind::set_role:
                table.set_mirror(c.value == 0, 100);
                active.store(c.value != 0);
                break;
            case CommandKind::set_failed: ok = table.set_failed(c.node, c.value != 0); break;
            case CommandKind::set_admin: ok = table.set_admin(c.node, static_cast<NodeAdmin>(c.value)); break;
            case CommandKind::set_weight: ok = table.set_weight(c.node, c.value); break;
            case CommandKind::touch_all: table.touch_all(100); break;
            case CommandKind::apply_sync:
                ok = sync::apply(table, *static_cast<const sync::Message*>(c.payload), 100) == sync::Applied::applied;
                break;
            case CommandKind::set_node: {
                const auto& u = *static_cast<const NodeUpdate*>(c.payload);
                table.set_node(c.node, u.eth0_mac, u.weight, static_cast<NodeAdmin>(u.admin));
                break;
            }
            case CommandKind::remove_node: ok = table.remove_node(c.node); break;
            case CommandKind::set_steered: ok = table.set_steered(c.node, c.value != 0); break;
            case CommandKind::set_direct_ips: break;  // the direct-IP slots live in the worker, not the table
        }
        c.ok = ok;
        c.done.store(true, std::memory_order_release);
    }

    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// A scheduler's control plane as main() assembles it, node 1, standby, on an injected clock.
struct Rig {
    ConfigFile file;
    ArrayConfig config;
    BucketTable table;
    CounterArray counters{};
    CommandQueue commands;
    std::atomic<bool> active{false};
    TableSync sync;
    uint64_t now_ms = 1000;
    ControlPlane control;
    FakeDataPlane data_plane;

    explicit Rig(const std::string& text = config_text())
        : file(text), config(load(file.path())), table(config.scheduler.table_size, 60),
          commands(queue_name()),
          sync(SyncSettings{config.node(1)->eth0_ip, config.failover.sync_port, 100, 7}, table, commands, active),
          control(config, 1, MacAddr{{0x02, 0x77, 0, 0, 2, 1}}, table, counters, commands, active, sync,
                  [this] { return now_ms; }),
          data_plane(commands, table, active) {
        for (const NodeConfig& n : config.nodes) table.set_node(n.number, n.eth0_mac, n.weight, NodeAdmin::enabled);
        table.set_mirror(true, 0);
    }

    nlohmann::json ask(const std::string& line) { return nlohmann::json::parse(control.handle(line)); }
    // A row of the status table, by node number.
    nlohmann::json status_of(uint16_t node) {
        const io::Table t = control.status_table();
        for (const auto& row : t.rows) {
            if (row[0] == node) {
                nlohmann::json out;
                for (size_t c = 0; c < t.columns.size(); ++c) out[t.columns[c].name] = row[c];
                return out;
            }
        }
        FAIL("no node " << node << " in the status table");
        return {};
    }

    static std::string queue_name() {
        static int n = 0;
        return "ut_cp_" + std::to_string(n++);
    }
};

}  // namespace

TEST_CASE("node admin state, weight and the sweep's verdicts reach the data plane", "[control_plane]") {
    testing::eal_once("control_plane_test");
    Rig rig;
    CHECK(rig.ask("node 2 drain")["message"] == "node 2 is now draining");
    CHECK(rig.table.node(2).admin == NodeAdmin::draining);
    CHECK(rig.status_of(2)["state"] == "draining");
    CHECK(rig.ask("node 2 enable")["ok"] == true);
    CHECK(rig.table.node(2).admin == NodeAdmin::enabled);
    CHECK(rig.ask("node 3 disable")["ok"] == true);
    CHECK(rig.table.node(3).admin == NodeAdmin::disabled);

    CHECK(rig.ask("node 2 weight 5")["message"] == "node 2 weight is now 5");
    CHECK(rig.table.node(2).weight == 5);
    CHECK(rig.status_of(2)["weight"] == 5);
    const auto too_heavy = rig.ask("node 2 weight 1000001");
    CHECK(too_heavy["ok"] == false);
    CHECK(too_heavy["error"] == "usage: node N weight W (0..1000000)");
    CHECK(rig.table.node(2).weight == 5);

    CHECK(rig.ask("node 2 fail")["message"] == "node 2 is now failed");
    CHECK(rig.table.node(2).failed);
    CHECK(rig.status_of(2)["failed"] == true);
    CHECK(rig.ask("node 2 live")["message"] == "node 2 is now live");
    CHECK_FALSE(rig.table.node(2).failed);

    CHECK(rig.ask("node 9 drain")["error"] == "no node 9 in the configuration");
}

TEST_CASE("wrong requests get the protocol table's usage", "[control_plane]") {
    testing::eal_once("control_plane_test");
    Rig rig;
    CHECK(rig.ask("")["error"] == "empty request");
    CHECK(rig.ask("node 2 weight")["error"] == "usage: node N weight W");
    CHECK(rig.ask("node 0 fail")["error"] == "node number must be 1..255, got '0'");
    const std::string unknown = rig.ask("frobnicate")["error"];
    CHECK_THAT(unknown, Catch::Matchers::StartsWith("unknown request 'frobnicate' (status | hash [all [FROM_BUCKET]]"));
    CHECK(rig.ask("backends")["ok"] == false);  // the server's, not ours
}

TEST_CASE("every verb the table gives the scheduler has a handler", "[control_plane]") {
    testing::eal_once("control_plane_test");
    Rig rig;
    for (const proto::VerbSpec& v : proto::verbs()) {
        if (!proto::serves(v.served_by, proto::Daemon::scheduler)) continue;
        INFO(v.example);
        const std::string answer = rig.control.handle(v.example);
        CHECK(answer.find("not a scheduler request") == std::string::npos);
    }
}

TEST_CASE("the active role with a lease: renewals keep it, silence turns the scheduler standby", "[control_plane]") {
    testing::eal_once("control_plane_test");
    Rig rig;
    CHECK(rig.ask("renew")["error"] == "no lease to renew");
    CHECK(rig.ask("role active lease 500")["message"] == "role is now active, lease 500 ms");
    CHECK(rig.active.load());
    CHECK_FALSE(rig.table.mirror());
    CHECK(rig.control.status_table().meta["lease_ms"] == 500);

    rig.now_ms = 1400;
    CHECK(rig.control.expire_lease().empty());
    CHECK(rig.ask("renew")["message"] == "lease renewed");  // until 1900 now
    rig.now_ms = 1800;
    CHECK(rig.control.expire_lease().empty());
    CHECK(rig.active.load());
    rig.now_ms = 1900;
    CHECK(rig.control.expire_lease() ==
          "the active role's lease (500 ms) was not renewed by dlbad: turned standby");
    CHECK_FALSE(rig.active.load());
    CHECK(rig.table.mirror());
    CHECK(rig.control.status_table().meta["lease_ms"].is_null());
    CHECK(rig.ask("renew")["ok"] == false);
    rig.now_ms = 100000;
    CHECK(rig.control.expire_lease().empty());  // once
}

TEST_CASE("an operator's plain role has no lease", "[control_plane]") {
    testing::eal_once("control_plane_test");
    Rig rig;
    CHECK(rig.ask("role active")["message"] == "role is now active");
    rig.now_ms = 1000000;
    CHECK(rig.control.expire_lease().empty());
    CHECK(rig.active.load());
    CHECK(rig.ask("role standby")["message"] == "role is now standby");
    CHECK_FALSE(rig.active.load());
}

TEST_CASE("the sweep's figures and its time fill the status table", "[control_plane]") {
    testing::eal_once("control_plane_test");
    Rig rig;
    CHECK(rig.status_of(2)["hits"].is_null());
    CHECK(rig.control.status_table().meta["last_sweep"].is_null());
    CHECK(rig.ask("node 2 stats 120 4 2.500")["message"] == "figures recorded");
    CHECK(rig.status_of(2)["hits"] == 120);
    CHECK(rig.status_of(2)["open_conns"] == 4);
    CHECK(rig.status_of(2)["avg_resp_ms"] == Approx(2.5));
    CHECK(rig.ask("node 2 stats - - -")["ok"] == true);
    CHECK(rig.status_of(2)["hits"].is_null());
    CHECK(rig.status_of(2)["avg_resp_ms"].is_null());
    CHECK(rig.ask("sweep-done 1700000000")["message"] == "sweep recorded");
    CHECK(rig.control.status_table().meta["last_sweep"] == 1700000000);
}

TEST_CASE("sync-from names another node's sync port; none stops it", "[control_plane]") {
    testing::eal_once("control_plane_test");
    Rig rig;
    CHECK(rig.ask("sync-from 2")["message"] == "syncing from node 2 (10.77.0.12:7101)");
    CHECK(rig.sync.table().meta["source"] == "10.77.0.12:7101");
    CHECK(rig.ask("sync-from 1")["error"] == "a scheduler does not sync from itself");
    CHECK(rig.ask("sync-from 9")["error"] == "no node 9 in the configuration");
    CHECK(rig.ask("sync-from none")["message"] == "table sync stopped");
    CHECK(rig.sync.table().meta["source"].is_null());
}

TEST_CASE("reload takes node changes live and refuses what needs a restart", "[control_plane]") {
    testing::eal_once("control_plane_test");
    Rig rig;
    rig.file.write(config_text(4));
    const auto reloaded = rig.ask("reload");
    CHECK(reloaded["ok"] == true);
    CHECK(reloaded["message"] == "configuration reloaded: changed node 2");
    CHECK(rig.table.node(2).weight == 4);
    CHECK(rig.ask("reload")["message"] == "configuration reloaded: no change for the scheduler");

    ConfigFile bigger(config_text(4, 2048));
    const auto check = rig.ask("check-reload " + bigger.path());
    CHECK(check["ok"] == false);
    CHECK_THAT(check["error"].get<std::string>(), Catch::Matchers::Contains("scheduler.table_size cannot change"));
    ConfigFile same(config_text(1));
    CHECK(rig.ask("check-reload " + same.path())["message"] == "the scheduler can take " + same.path());
    CHECK(rig.table.node(2).weight == 4);  // a check applies nothing

    rig.file.write(config_text(4, 2048));
    const auto refused = rig.ask("reload");
    CHECK(refused["ok"] == false);
    CHECK_THAT(refused["error"].get<std::string>(),
               Catch::Matchers::StartsWith("configuration refused, the running one stays"));
    rig.file.write("array = { vip = ");
    CHECK(rig.ask("reload")["ok"] == false);
    CHECK(rig.table.node(2).weight == 4);
}

TEST_CASE("the tables: status, hash summary and pages, counters", "[control_plane]") {
    testing::eal_once("control_plane_test");
    Rig rig;
    rig.ask("role active");
    for (uint32_t b = 0; b < 10; ++b) rig.table.lookup_or_assign(b, 100);
    const auto hash = rig.ask("hash");
    CHECK(hash["table"] == "hash");
    CHECK(hash["meta"]["assigned"] == 10);
    const auto page = rig.ask("hash all 5");
    CHECK(page["table"] == "hash-buckets");
    CHECK(page["rows"].size() == 5);
    CHECK(page["rows"][0][0] == 5);
    CHECK(rig.ask("hash all")["rows"].size() == 10);
    const auto counters = rig.ask("counters");
    CHECK(counters["rows"][0][0] == "rx");
    CHECK(counters["meta"]["rx_accounted"] == true);
    CHECK(rig.ask("status")["meta"]["role"] == "active");
    CHECK(rig.ask("sync")["table"] == "sync");
}
