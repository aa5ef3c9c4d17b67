// One node's metrics rendered from its daemons' tables (the shapes the daemons serve).
#include <catch2/catch.hpp>

#include <string>

#include "metrics/node_metrics.hpp"

using namespace dlba;
using io::ColumnType;

namespace {

io::Table pairs_table(const char* name, const char* source, nlohmann::json meta,
                      std::initializer_list<std::pair<const char*, uint64_t>> rows) {
    io::Table t;
    t.name = name;
    t.source = source;
    t.meta = std::move(meta);
    t.columns = {{"counter", ColumnType::string}, {"value", ColumnType::unsigned_integer}};
    for (const auto& [k, v] : rows) t.rows.push_back({k, v});
    return t;
}

bool has(const std::string& text, const std::string& line) {
    INFO(line);
    return text.find(line + "\n") != std::string::npos;
}

metrics::NodeTables sample() {
    metrics::NodeTables in;
    in.node = 2;
    in.sched_counters = pairs_table("counters", "scheduler", {{"role", "active"}},
                                    {{"rx", 100}, {"forwarded", 90}, {"drop.non_ip", 4}, {"drop.vip_port", 6},
                                     {"fragments_first", 1}, {"polls", 5000}});
    io::Table status;
    status.name = "status";
    status.source = "scheduler";
    status.version = 17;
    status.meta = {{"role", "active"}, {"table_size", 65536}, {"last_sweep", 1700000000}, {"lease_ms", 500}};
    status.columns = {{"node", ColumnType::unsigned_integer}, {"state", ColumnType::string},
                      {"weight", ColumnType::unsigned_integer}, {"failed", ColumnType::boolean},
                      {"buckets", ColumnType::unsigned_integer}, {"packets", ColumnType::unsigned_integer}};
    status.rows = {{1, "enabled", 1, false, 30, 50}, {2, "draining", 2, true, 0, 40}};
    in.sched_status = status;
    io::Table hash;
    hash.name = "hash";
    hash.source = "scheduler";
    hash.meta = {{"assigned", 30}, {"unassigned", 65506}, {"reassignments", 3}};
    in.sched_hash = hash;
    in.sched_sync = pairs_table("sync", "scheduler", {{"source", "10.0.0.1:7101"}, {"last_ok", 1700000001}},
                                {{"local_version", 40}, {"source_version", 42}, {"deltas", 9}});
    in.has_server = true;
    in.server_status = pairs_table("status", "server", {{"uptime_s", 12}, {"auth.sweep_dropped.bad_mac", 1}},
                                   {{"requests", 1000}, {"responses_2xx", 990}, {"tls_handshakes", 10},
                                    {"tls_resumed", 4}, {"tls_handshake_failures", 2}});
    io::Table backends;
    backends.name = "backends";
    backends.source = "server";
    backends.columns = {{"key", ColumnType::string}, {"state", ColumnType::string}, {"admin", ColumnType::string},
                        {"open_conns", ColumnType::unsigned_integer}, {"avg_resp_ms", ColumnType::floating}};
    backends.rows = {{"web1", "up", "in-service", 3, 2.5}, {"we\"b2", "check_failed", "oos", 0, nullptr}};
    in.server_backends = backends;
    io::Table latency;
    latency.name = "latency";
    latency.source = "server";
    latency.columns = {{"backend", ColumnType::string},       {"responses_2xx", ColumnType::unsigned_integer},
                       {"responses_5xx", ColumnType::unsigned_integer}, {"count", ColumnType::unsigned_integer},
                       {"sum_s", ColumnType::floating},       {"le_0.001", ColumnType::unsigned_integer},
                       {"le_0.01", ColumnType::unsigned_integer}, {"le_+Inf", ColumnType::unsigned_integer}};
    latency.rows = {{"web1", 7, 1, 8, 0.02, 5, 7, 8}};
    in.server_latency = latency;
    io::Table failover;
    failover.name = "failover";
    failover.source = "dlbad";
    failover.meta = {{"role", "active"}, {"term", 3}, {"takeovers", 2}, {"auth.isolated", false}};
    failover.columns = {{"node", ColumnType::unsigned_integer}, {"heard_ms_ago", ColumnType::unsigned_integer},
                        {"alive", ColumnType::boolean}};
    failover.rows = {{1, 20, true}, {2, 0, true}, {3, nullptr, false}};
    in.failover = failover;
    return in;
}

}  // namespace

TEST_CASE("node metrics: the scheduler's counters, drops by reason, role one-hot, table and sync", "[metrics]") {
    const std::string m = metrics::render_node_metrics(sample());
    CHECK(has(m, "# TYPE dlba_scheduler_rx_packets_total counter"));
    CHECK(has(m, "dlba_scheduler_rx_packets_total 100"));
    CHECK(has(m, "dlba_scheduler_dropped_packets_total{reason=\"non_ip\"} 4"));
    CHECK(has(m, "dlba_scheduler_dropped_packets_total{reason=\"vip_port\"} 6"));
    CHECK(has(m, "dlba_scheduler_fragments_total{kind=\"first\"} 1"));
    CHECK(has(m, "dlba_scheduler_role{role=\"active\"} 1"));
    CHECK(has(m, "dlba_scheduler_role{role=\"standby\"} 0"));
    CHECK(has(m, "dlba_scheduler_lease_seconds 0.5"));
    CHECK(has(m, "dlba_scheduler_node_admin_state{node=\"2\",state=\"draining\"} 1"));
    CHECK(has(m, "dlba_scheduler_node_admin_state{node=\"2\",state=\"enabled\"} 0"));
    CHECK(has(m, "dlba_scheduler_node_failed{node=\"2\"} 1"));
    CHECK(has(m, "dlba_bucket_table_assigned 30"));
    CHECK(has(m, "dlba_bucket_table_version 17"));
    CHECK(has(m, "dlba_bucket_reassignments_total 3"));
    CHECK(has(m, "dlba_sync_version_lag 2"));
    CHECK(has(m, "dlba_sync_transfers_total{kind=\"delta\"} 9"));
    CHECK(has(m, "dlba_component_up{component=\"scheduler\"} 1"));
}

TEST_CASE("node metrics: the server's figures, back ends' state as values, the histogram", "[metrics]") {
    const std::string m = metrics::render_node_metrics(sample());
    CHECK(has(m, "dlba_server_requests_total 1000"));
    CHECK(has(m, "dlba_server_responses_total{code_class=\"2xx\"} 990"));
    CHECK(has(m, "dlba_tls_handshakes_total{result=\"full\"} 6"));
    CHECK(has(m, "dlba_tls_handshakes_total{result=\"resumed\"} 4"));
    CHECK(has(m, "dlba_tls_handshakes_total{result=\"failed\"} 2"));
    CHECK(has(m, "dlba_server_sweep_auth_dropped_total{reason=\"bad_mac\"} 1"));
    CHECK(has(m, "dlba_backend_up{backend=\"web1\"} 1"));
    CHECK(has(m, "dlba_backend_up{backend=\"we\\\"b2\"} 0"));  // the key escaped
    CHECK(has(m, "dlba_backend_state{backend=\"we\\\"b2\",state=\"check_failed\"} 1"));
    CHECK(has(m, "dlba_backend_state{backend=\"we\\\"b2\",state=\"up\"} 0"));
    CHECK(has(m, "dlba_backend_admin_state{backend=\"web1\",state=\"in-service\"} 1"));
    CHECK(has(m, "dlba_backend_current_requests{backend=\"web1\"} 3"));
    CHECK(has(m, "dlba_backend_response_seconds_average{backend=\"web1\"} 0.0025"));
    CHECK(m.find("dlba_backend_response_seconds_average{backend=\"we\\\"b2") == std::string::npos);  // unknown: none
    CHECK(has(m, "dlba_backend_requests_total{backend=\"web1\",code_class=\"2xx\"} 7"));
    CHECK(has(m, "dlba_backend_requests_total{backend=\"web1\",code_class=\"5xx\"} 1"));
    CHECK(has(m, "# TYPE dlba_backend_response_seconds histogram"));
    CHECK(has(m, "dlba_backend_response_seconds_bucket{backend=\"web1\",le=\"0.001\"} 5"));
    CHECK(has(m, "dlba_backend_response_seconds_bucket{backend=\"web1\",le=\"+Inf\"} 8"));
    CHECK(has(m, "dlba_backend_response_seconds_count{backend=\"web1\"} 8"));
    CHECK(has(m, "dlba_backend_response_seconds_sum{backend=\"web1\"} 0.02"));
}

TEST_CASE("node metrics: dlbad's own view of the nodes and the takeovers", "[metrics]") {
    const std::string m = metrics::render_node_metrics(sample());
    CHECK(has(m, "dlba_node_up{node=\"1\"} 1"));
    CHECK(has(m, "dlba_node_up{node=\"3\"} 0"));
    CHECK(has(m, "dlba_node_heartbeat_age_seconds{node=\"1\"} 0.02"));
    CHECK(has(m, "dlba_takeovers_total 2"));
    CHECK(has(m, "dlba_failover_role{role=\"active\"} 1"));
    CHECK(has(m, "dlba_failover_term 3"));
}

TEST_CASE("node metrics: a daemon that did not answer leaves its families empty and says so", "[metrics]") {
    metrics::NodeTables in = sample();
    in.sched_counters.reset();
    in.sched_status.reset();
    in.server_status.reset();
    in.server_backends.reset();
    const std::string m = metrics::render_node_metrics(in);
    CHECK(has(m, "dlba_component_up{component=\"scheduler\"} 0"));
    CHECK(has(m, "dlba_component_up{component=\"server\"} 0"));
    CHECK(has(m, "# TYPE dlba_scheduler_rx_packets_total counter"));
    CHECK(m.find("\ndlba_scheduler_rx_packets_total ") == std::string::npos);
    CHECK(m.find("dlba_scheduler_role{") == std::string::npos);
    // Every family has its HELP line right before its TYPE line, and no family repeats.
    size_t pos = 0, families = 0;
    while ((pos = m.find("# TYPE ", pos)) != std::string::npos) {
        ++families;
        pos += 7;
    }
    size_t helps = 0;
    for (pos = 0; (pos = m.find("# HELP ", pos)) != std::string::npos; pos += 7) ++helps;
    CHECK(families == helps);
    CHECK(families > 60);
}
