// The status sweep with a fake clock, a fake fetcher (nodes that fail a given number of times) and a fake
// scheduler link: retries, failing a node, live again, the figures it passes on.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "dlbad_fakes.hpp"
#include "monitor_tables.hpp"
#include "status_sweep.hpp"
#include "io/table_format.hpp"
#include "net_types.hpp"

using namespace dlba;
using namespace dlba::dlbad;
using namespace dlba::dlbad::test;

namespace {

// A DLBA server's node-status answer: two back ends.
std::string server_answer(uint64_t hits_a, uint64_t hits_b) {
    io::Table t;
    t.name = "node-status";
    t.source = "server";
    t.meta = {{"node", 1}, {"server", "dlba-server"}, {"healthy", true}};
    using io::ColumnType;
    t.columns = {{"key", ColumnType::string},       {"address", ColumnType::ipv4},
                 {"hits", ColumnType::unsigned_integer}, {"open_conns", ColumnType::unsigned_integer},
                 {"avg_resp_ms", ColumnType::floating},  {"cookie_groups", ColumnType::unsigned_integer}};
    t.rows = {{"a", "10.0.0.1", hits_a, 2, 10.0, 3}, {"b", "10.0.0.2", hits_b, 1, 20.0, nullptr}};
    return t.to_json().dump();
}

// Each node fails `failures[node]` times (then answers `answer`), or always when failures is negative.
class FakeFetcher final : public StatusFetcher {
public:
    std::optional<std::string> fetch(const NodeConfig& node, int timeout_ms, std::string* err) override {
        ++asked[node.number];
        timeouts.push_back(timeout_ms);
        int& left = failures[node.number];
        if (left != 0) {
            if (left > 0) --left;
            *err = "connection refused";
            return std::nullopt;
        }
        return answers.count(node.number) ? answers[node.number] : server_answer(5, 5);
    }
    std::map<uint16_t, int> failures;
    std::map<uint16_t, std::string> answers;
    std::map<uint16_t, int> asked;
    std::vector<int> timeouts;
};

struct Sweep {
    ArrayConfig config = array_config();
    FakeTime time;
    FakeLink link;
    FakeFetcher fetcher;
    StatusSweep sweep{config, 1, link, fetcher, time};
    Sweep() { sweep.set_active(true); }
    SweepResult result(uint16_t node) const { return sweep.snapshot().results.at(node); }
};

}  // namespace

TEST_CASE("sweep: a node that answers within its retries is not failed", "[sweep]") {
    Sweep s;
    s.fetcher.failures[2] = 2;  // sweep_retries = 2: the third attempt answers
    s.sweep.sweep_once();
    CHECK(s.fetcher.asked[2] == 3);
    CHECK(s.time.slept_ms == 2 * 300);  // the attempts are spaced a sweep timeout apart
    CHECK(s.fetcher.timeouts.front() == 300);
    CHECK_FALSE(s.link.asked("node_failed 2 true"));
    const SweepResult r = s.result(2);
    CHECK(r.answered);
    CHECK(r.attempts == 3);
    CHECK_FALSE(r.failed_by_sweep);
    CHECK(s.link.stats.count(2));
}

TEST_CASE("sweep: a node is marked failed only after 1 + sweep_retries attempts", "[sweep]") {
    Sweep s;
    s.fetcher.failures[2] = -1;
    s.sweep.sweep_once();
    CHECK(s.fetcher.asked[2] == 3);
    CHECK(s.link.count("node_failed 2 true") == 1);
    const SweepResult r = s.result(2);
    CHECK_FALSE(r.answered);
    CHECK(r.failed_by_sweep);
    CHECK(r.attempts == 3);
    CHECK(r.last_error == "connection refused");
    CHECK_FALSE(r.answer);
    // The others were visited, and the sweep was reported done.
    CHECK(s.fetcher.asked[1] == 1);
    CHECK(s.fetcher.asked[3] == 1);
    CHECK(s.link.asked("sweep_done " + std::to_string(s.time.unix_s())));
    CHECK(s.sweep.snapshot().sweeps == 1);
}

TEST_CASE("sweep: a failed node is marked live again when it answers", "[sweep]") {
    Sweep s;
    s.fetcher.failures[2] = -1;
    s.sweep.sweep_once();
    s.link.failed_flags = {{1, false}, {2, true}, {3, false}};  // what the scheduler holds now
    s.fetcher.failures[2] = 0;
    s.sweep.sweep_once();
    CHECK(s.link.count("node_failed 2 false") == 1);
    CHECK_FALSE(s.result(2).failed_by_sweep);
    CHECK(s.result(2).answered);
    CHECK(s.result(2).attempts == 1);
}

TEST_CASE("sweep: a verdict the scheduler already holds is not sent again", "[sweep]") {
    Sweep s;
    s.link.failed_flags = {{2, true}};
    s.fetcher.failures[2] = -1;
    s.sweep.sweep_once();
    CHECK_FALSE(s.link.asked("node_failed 2 true"));
    CHECK(s.result(2).failed_by_sweep);
    CHECK_FALSE(s.link.asked("node_failed 1 false"));  // never failed: no live either
}

TEST_CASE("sweep: a node that closes without an answer or answers garbage counts as not answering", "[sweep]") {
    Sweep s;
    s.fetcher.answers[2] = "";
    s.fetcher.answers[3] = "not json";
    s.sweep.sweep_once();
    CHECK(s.result(2).last_error == "closed without an answer (the node reports itself unable to serve)");
    CHECK(s.result(3).last_error == "malformed answer");
    CHECK(s.fetcher.asked[2] == 3);
    CHECK(s.link.asked("node_failed 2 true"));
    CHECK(s.link.asked("node_failed 3 true"));
}

TEST_CASE("sweep: a node that reports itself unhealthy is failed as if it had not answered, live when healthy",
          "[sweep]") {
    Sweep s;
    auto doc = nlohmann::json::parse(server_answer(1, 1));
    doc["meta"]["healthy"] = false;
    doc["meta"]["reason"] = "no usable back end in any listener's service (web)";
    s.fetcher.answers[3] = doc.dump();
    s.sweep.sweep_once();
    CHECK(s.fetcher.asked[3] == 3);  // retried like a silent node
    CHECK(s.link.count("node_failed 3 true") == 1);
    const SweepResult r = s.result(3);
    CHECK_FALSE(r.answered);
    CHECK(r.failed_by_sweep);
    CHECK_FALSE(r.answer);
    CHECK(r.last_error == "reports itself unhealthy: no usable back end in any listener's service (web)");
    CHECK_FALSE(s.link.stats.count(3));  // no figures from an unhealthy answer
    // Healthy again: live.
    s.link.failed_flags = {{1, false}, {2, false}, {3, true}};
    s.fetcher.answers.erase(3);
    s.sweep.sweep_once();
    CHECK(s.link.count("node_failed 3 false") == 1);
    CHECK(s.result(3).answered);
    CHECK_FALSE(s.result(3).failed_by_sweep);
}

TEST_CASE("sweep: nothing is visited while the local scheduler is not active", "[sweep]") {
    Sweep s;
    s.sweep.set_active(false);
    s.sweep.sweep_once();
    CHECK(s.fetcher.asked.empty());
    CHECK_FALSE(s.link.asked("sweep_done " + std::to_string(s.time.unix_s())));
    CHECK_FALSE(s.sweep.snapshot().sweeping);
}

TEST_CASE("sweep: the server status table's figures are the node's totals, hit-weighted", "[sweep]") {
    Sweep s;
    s.fetcher.answers[2] = server_answer(30, 10);
    s.sweep.sweep_once();
    REQUIRE(s.link.stats.count(2));
    REQUIRE(s.link.stats[2]);
    CHECK(s.link.stats[2]->hits == 40);
    CHECK(s.link.stats[2]->open_conns == 3);
    CHECK(s.link.stats[2]->avg_resp_ms == Approx((30 * 10.0 + 10 * 20.0) / 40));
}

TEST_CASE("sweep answer: no back end means no figures; connections_open overrides the sum", "[sweep]") {
    io::Table t;
    t.name = "node-status";
    t.source = "dlbad";
    t.meta = {{"node", 2}, {"server", "prototype"}, {"healthy", true}};
    auto a = parse_sweep_answer(t.to_json().dump());
    REQUIRE(a);
    CHECK(a->status.server == "prototype");
    CHECK_FALSE(a->totals);
    CHECK(a->status.backends.empty());

    auto doc = nlohmann::json::parse(server_answer(1, 1));
    doc["meta"]["connections_open"] = 42;
    a = parse_sweep_answer(doc.dump());
    REQUIRE(a);
    REQUIRE(a->totals);
    CHECK(a->totals->open_conns == 42);
    REQUIRE(a->status.backends.size() == 2);
    CHECK(a->status.backends[0].key == "a");
    CHECK(format_ipv4(a->status.backends[0].address) == "10.0.0.1");
    CHECK(a->status.backends[0].cookie_groups == std::optional<uint64_t>(3));
    CHECK_FALSE(a->status.backends[1].cookie_groups);
    CHECK_FALSE(parse_sweep_answer("{}"));
}

TEST_CASE("summary table: every back end's figures added up over the nodes that answered", "[sweep][monitor]") {
    Sweep s;
    s.fetcher.answers[1] = server_answer(10, 1);
    s.fetcher.answers[2] = server_answer(20, 2);
    s.fetcher.failures[3] = -1;
    s.sweep.sweep_once();
    const io::Table t = summary_table(1, s.sweep.snapshot());
    std::string err;
    CHECK(t.validate(&err));
    REQUIRE(t.rows.size() == 2);
    // backend, address, cookie_groups, total_hits, total_open_conns
    // The last column, admin, is null: these answers carry no admin state.
    CHECK(t.rows[0] == std::vector<nlohmann::json>{"a", "10.0.0.1", 6, 30, 4, nullptr});
    CHECK(t.rows[1] == std::vector<nlohmann::json>{"b", "10.0.0.2", nullptr, 3, 2, nullptr});
    CHECK(t.version == 1);

    const io::Table sweep = sweep_table(s.config, 1, s.sweep.snapshot());
    CHECK(sweep.validate(&err));
    REQUIRE(sweep.rows.size() == 3);
    // node, answered, attempts, failed_by_sweep, last_answer, server, last_error
    CHECK(sweep.rows[1][5] == "dlba-server");
    CHECK(sweep.rows[2][1] == false);
    CHECK(sweep.rows[2][5] == nullptr);
    CHECK(sweep.rows[2][6] == "connection refused");
    CHECK(sweep.meta["sweeping"] == true);
}
