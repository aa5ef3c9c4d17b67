// The status sweep's answer as one typed structure: the server's table round-trips through NodeStatus, the
// scheduler's per-node figures and the summary table's per-back-end totals are computed from it, and the
// prototype's answer (no back ends) reads as "figures not known".
#include <catch2/catch.hpp>

#include <string>

#include "protocol/node_status.hpp"

using namespace dlba;
using namespace dlba::proto;

namespace {

BackendRow backend(const char* key, uint32_t address, uint64_t hits, uint64_t open, std::optional<double> avg,
                   uint64_t cookie_groups) {
    BackendRow b;
    b.key = key;
    b.address = address;
    b.port = 8080;
    b.state = "up";
    b.weight = 1;
    b.hits = hits;
    b.open_conns = open;
    b.avg_resp_ms = avg;
    b.cookie_groups = cookie_groups;
    b.services = "web";
    b.check = "failed:http_500";
    b.agent = "up,drain,25%";
    b.agent_errors = 4;
    b.admin = "in-service";
    b.max_inflight = 8;
    b.queued = open + 1;
    b.queue_timeouts = hits / 10;
    b.idle_pooled = open * 2;
    b.tls_bound = hits / 3;
    b.tls_rebound = hits / 15;
    b.tunnels = hits / 5;
    b.tunnels_open = open;
    return b;
}

NodeStatus answer(uint16_t node) {
    NodeStatus s;
    s.node = node;
    s.time = 1700000123;
    s.counters = {{"connections_open", 5}, {"requests", 40}};
    s.backends = {backend("a", 0x0a000001, 30, 2, 10.0, 4), backend("b", 0x0a000002, 10, 1, 20.0, 0)};
    return s;
}

// Through the wire: to JSON text and back.
NodeStatus through_json(const NodeStatus& s) {
    std::string err;
    const auto t = io::Table::from_json(nlohmann::json::parse(s.to_table().to_json().dump()), &err);
    REQUIRE(t);
    const auto back = NodeStatus::from_table(*t, &err);
    INFO(err);
    REQUIRE(back);
    return *back;
}

}  // namespace

TEST_CASE("a node's answer round-trips through the node-status table", "[node_status]") {
    const NodeStatus s = answer(2);
    const io::Table t = s.to_table();
    std::string err;
    CHECK(t.validate(&err));
    CHECK(t.name == "node-status");
    CHECK(t.source == "dlba-server");
    CHECK(t.meta["node"] == 2);
    CHECK(t.meta["time"] == 1700000123);
    CHECK(t.meta["healthy"] == true);
    CHECK(t.meta["server"] == "dlba-server");
    CHECK(t.meta["connections_open"] == 5);
    CHECK(t.columns.size() == 31);
    // New columns come last, so a reader that looks columns up by position for the older ones still works.
    CHECK(t.columns[26].name == "check");
    CHECK(t.columns[27].name == "agent");
    CHECK(t.columns[28].name == "agent_errors");
    CHECK(t.columns[29].name == "tunnels");
    CHECK(t.columns[30].name == "tunnels_open");
    CHECK(t.rows.size() == 2);

    const NodeStatus back = through_json(s);
    CHECK(back.node == 2);
    CHECK(back.time == 1700000123);
    CHECK(back.healthy);
    CHECK(back.server == "dlba-server");
    CHECK(back.counters == s.counters);
    REQUIRE(back.backends.size() == 2);
    CHECK(back.backends[0].key == "a");
    CHECK(back.backends[0].address == 0x0a000001);
    CHECK(back.backends[0].port == 8080);
    CHECK(back.backends[0].hits == 30);
    CHECK(back.backends[0].avg_resp_ms == Approx(10.0));
    CHECK(back.backends[0].max_inflight == 8);  // QoS columns
    CHECK(back.backends[0].queued == 3);
    CHECK(back.backends[0].queue_timeouts == 3);
    CHECK(back.backends[0].idle_pooled == 4);  // prewarm
    CHECK(t.columns[21].name == "idle_pooled");
    CHECK(back.backends[0].tls_bound == 10);  // TLS-session columns
    CHECK(back.backends[0].tls_rebound == 2);
    CHECK(t.columns[22].name == "tls_bound");
    CHECK(t.columns[23].name == "tls_rebound");
    CHECK(t.columns[25].name == "admin");
    CHECK(t.columns[24].name == "redirects");
    CHECK(back.backends[1].cookie_groups == 0);
    CHECK(back.backends[0].check == "failed:http_500");  // health columns
    CHECK(back.backends[0].agent == "up,drain,25%");
    CHECK(back.backends[0].agent_errors == 4);
    CHECK(back.backends[0].tunnels == 6);  // upgraded connections
    CHECK(back.backends[0].tunnels_open == 2);
    CHECK(back.backends[0].admin == "in-service");
    CHECK(back.to_table().to_json() == t.to_json());
}

TEST_CASE("a back end never measured has no average, on the wire and back", "[node_status]") {
    NodeStatus s = answer(1);
    s.backends[1].avg_resp_ms.reset();
    CHECK(s.to_table().rows[1][7].is_null());
    CHECK_FALSE(through_json(s).backends[1].avg_resp_ms);
}

TEST_CASE("the prototype's answer has no back ends, and none of the scheduler's figures are known", "[node_status]") {
    // As dlbad answers for plain web servers: no columns at all.
    io::Table t;
    t.name = "node-status";
    t.source = "dlbad";
    t.meta = {{"node", 3}, {"time", 1700000000}, {"server", "prototype"}, {"healthy", true}};
    std::string err;
    const auto s = NodeStatus::from_table(t, &err);
    REQUIRE(s);
    CHECK(s->source == "dlbad");
    CHECK(s->server == "prototype");
    CHECK(s->backends.empty());
    CHECK(s->counters.empty());
    const NodeFigures f = summarise(*s);
    CHECK_FALSE(f.hits);
    CHECK_FALSE(f.open_conns);
    CHECK_FALSE(f.avg_resp_ms);
}

TEST_CASE("other tables are not node answers", "[node_status]") {
    io::Table t;
    t.name = "backends";
    t.source = "server";
    std::string err;
    CHECK_FALSE(NodeStatus::from_table(t, &err));
    CHECK_THAT(err, Catch::Matchers::Contains("not a node-status table"));
    t.name = "node-status";
    CHECK_FALSE(NodeStatus::from_table(t, &err));  // no node number
}

TEST_CASE("the scheduler's figures: hits summed, the server's open connections, the average weighted by hits", "[node_status]") {
    const NodeFigures f = summarise(answer(2));
    CHECK(f.hits == 40u);
    CHECK(f.open_conns == 5u);  // the server's connections_open, not the back ends' 2 + 1
    CHECK(*f.avg_resp_ms == Approx((30 * 10.0 + 10 * 20.0) / 40));

    NodeStatus s = answer(2);
    s.counters.clear();
    CHECK(summarise(s).open_conns == 3u);  // no server count: the back ends' sum
    for (BackendRow& b : s.backends) b.hits = 0;
    CHECK(summarise(s).avg_resp_ms == 0.0);  // no hits: 0, as the sweep has always sent
}

TEST_CASE("the summary table: per back end over all nodes", "[node_status]") {
    BackendTotals totals;
    add_to_totals(answer(1), totals);
    NodeStatus other = answer(2);
    other.backends.push_back(backend("c", 0x0a000003, 7, 0, std::nullopt, 1));
    add_to_totals(other, totals);
    REQUIRE(totals.size() == 3);
    CHECK(totals["a"].hits == 60);
    CHECK(totals["a"].open_conns == 4);
    CHECK(totals["a"].cookie_groups == 8);
    CHECK(totals["c"].hits == 7);

    io::Table t;
    t.name = "summary";
    t.source = "dlbad";
    put_summary_rows(t, totals);
    std::string err;
    CHECK(t.validate(&err));
    REQUIRE(t.rows.size() == 3);
    CHECK(t.columns[0].name == "backend");
    CHECK(t.rows[0][0] == "a");
    CHECK(t.rows[0][1] == "10.0.0.1");
    CHECK(t.rows[0][2] == 8);
    CHECK(t.rows[0][3] == 60);
    CHECK(t.rows[0][4] == 4);
    CHECK(t.columns[5].name == "admin");
    CHECK(t.rows[0][5] == "in-service");
}

TEST_CASE("the summary table's admin column: the nodes' common state, or each node's where they differ",
          "[node_status]") {
    BackendTotals totals;
    NodeStatus one = answer(1), two = answer(2);
    one.backends[0].admin = "maintenance";
    two.backends[0].admin = "maintenance";
    two.backends[1].admin = "sticky";  // node 1 keeps b in service
    add_to_totals(one, totals);
    add_to_totals(two, totals);
    io::Table t;
    t.name = "summary";
    t.source = "dlbad";
    put_summary_rows(t, totals);
    REQUIRE(t.rows.size() == 2);
    CHECK(t.rows[0][5] == "maintenance");
    CHECK(t.rows[1][5] == "1:in-service,2:sticky");
    BackendRow older = backend("x", 0x0a000009, 1, 0, std::nullopt, 0);
    older.admin.clear();  // a server without the column
    NodeStatus three = answer(3);
    three.backends = {older};
    BackendTotals only;
    add_to_totals(three, only);
    io::Table u;
    u.name = "summary";
    u.source = "dlbad";
    put_summary_rows(u, only);
    CHECK(u.rows[0][5].is_null());
}
