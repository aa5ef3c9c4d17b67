// The monitoring socket's tables from the jobs' snapshots, and the prototype status daemon's answer.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "dlbad_fakes.hpp"
#include "monitor_tables.hpp"
#include "status_daemon.hpp"

using namespace dlba;
using namespace dlba::dlbad;
using namespace dlba::dlbad::test;

TEST_CASE("failover table: this node, the peers heard from and the ones never heard", "[monitor]") {
    const ArrayConfig config = array_config();
    FailoverSnapshot s;
    s.node = 1;
    s.config_id = 77;
    s.active = true;
    s.term = 3;
    s.known_active = 1;
    s.local_dataplane_ok = true;
    s.local_version = 9;
    s.vip_arp = {*MacAddr::parse("02:77:00:00:02:01")};
    s.events = {"1700000000 became the active scheduler (term 3)"};
    PeerView p;
    p.last.beat = {2, 3, false, true, false};
    p.last.table_version = 9;
    p.last.config_id = 78;
    p.last.load_pct = 62;
    p.last_ms = 1000;
    s.peers[2] = p;
    s.own_load = 7;
    s.steered = {2};
    s.heartbeats_refused = 4;
    const io::Table t = failover_table(config, s, 1400);
    std::string err;
    CHECK(t.validate(&err));
    CHECK(t.version == 3);
    CHECK(t.meta["role"] == "active");
    CHECK(t.meta["sync_from"] == nullptr);
    CHECK(t.meta["vip_arp"][0]["node"] == 1);
    REQUIRE(t.rows.size() == 3);
    CHECK(t.meta["heartbeats_refused"] == 4);
    // node, priority, heard_ms_ago, alive, active, term, dataplane_ok, table_version, same_config, load_pct, steered
    CHECK(t.rows[0] == std::vector<nlohmann::json>{1, 100, 0, true, true, 3, true, 9, true, 7, false});
    CHECK(t.rows[1] == std::vector<nlohmann::json>{2, 100, 400, false, false, 3, true, 9, false, 62, true});
    CHECK(t.rows[2][3] == false);
    CHECK(t.rows[2][2] == nullptr);
    CHECK(t.rows[2][9] == nullptr);  // never heard: load not known
    CHECK(t.rows[2][10] == false);
    // On a standby the steering verdict is not known.
    s.active = false;
    const io::Table standby = failover_table(config, s, 1400);
    CHECK(standby.rows[1][10] == nullptr);
}

TEST_CASE("monitor: the table asked for, or an error naming the tables", "[monitor]") {
    const ArrayConfig config = array_config();
    FakeTime time;
    MonitorTables tables(config, 1, [] { return FailoverSnapshot{}; }, [] { return SweepSnapshot{}; }, time);
    CHECK(nlohmann::json::parse(tables.answer("failover"))["table"] == "failover");
    CHECK(nlohmann::json::parse(tables.answer("status"))["table"] == "failover");
    CHECK(nlohmann::json::parse(tables.answer("sweep"))["table"] == "sweep");
    CHECK(nlohmann::json::parse(tables.answer("summary"))["table"] == "summary");
    CHECK(tables.answer("hash").find("unknown request (failover | sweep | summary)") != std::string::npos);
}

TEST_CASE("prototype status daemon: a node-status table while the VIP accepts, nothing otherwise", "[monitor]") {
    CHECK(prototype_status_answer(2, 1700000000, false).empty());
    const auto doc = nlohmann::json::parse(prototype_status_answer(2, 1700000000, true));
    CHECK(doc["table"] == "node-status");
    CHECK(doc["meta"]["server"] == "prototype");
    CHECK(doc["meta"]["healthy"] == true);
    CHECK(doc["meta"]["node"] == 2);
    CHECK(doc["meta"]["time"] == 1700000000);
    const auto answer = parse_sweep_answer(doc.dump());  // what the sweep makes of it
    REQUIRE(answer);
    CHECK(answer->status.server == "prototype");
}
