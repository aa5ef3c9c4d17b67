#include "metrics/node_metrics.hpp"

#include <array>
#include <cstdlib>
#include <map>
#include <string_view>
#include <vector>

#include "metrics/prom_text.hpp"

namespace dlba::metrics {

namespace {

using nlohmann::json;

// ---- reading the tables ----------------------------------------------------------------------------------------

std::optional<size_t> column(const io::Table& t, std::string_view name) {
    for (size_t c = 0; c < t.columns.size(); ++c)
        if (t.columns[c].name == name) return c;
    return std::nullopt;
}

// A "counter / value" table as a map.
std::map<std::string, uint64_t> pairs(const io::Table& t) {
    std::map<std::string, uint64_t> out;
    const auto k = column(t, "counter");
    const auto v = column(t, "value");
    if (!k || !v) return out;
    for (const auto& row : t.rows) {
        if (row[*k].is_string() && row[*v].is_number_integer() && row[*v].get<int64_t>() >= 0) {
            out[row[*k].get<std::string>()] = row[*v].get<uint64_t>();
        }
    }
    return out;
}

std::optional<double> number(const json& v) {
    if (v.is_number()) return v.get<double>();
    if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
    return std::nullopt;
}

std::optional<double> cell(const io::Table& t, const std::vector<json>& row, std::string_view name) {
    const auto c = column(t, name);
    return c ? number(row[*c]) : std::nullopt;
}

std::string text_cell(const io::Table& t, const std::vector<json>& row, std::string_view name) {
    const auto c = column(t, name);
    return c && row[*c].is_string() ? row[*c].get<std::string>() : std::string();
}

std::optional<double> meta(const io::Table& t, const char* key) {
    const auto it = t.meta.find(key);
    return it == t.meta.end() ? std::nullopt : number(*it);
}

std::string meta_text(const io::Table& t, const char* key) {
    const auto it = t.meta.find(key);
    return it != t.meta.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string row_id(const std::vector<json>& row, size_t c) {
    return row[c].is_string() ? row[c].get<std::string>() : row[c].dump();
}

// ---- the families ------------------------------------------------------------------------------------------

struct Spec {
    const char* name;
    Type type;
    const char* help;
};

// A row of a counter/value table under a Prometheus name, with a fixed label.
struct RowMap {
    const char* row;
    const char* family;
    const char* label = nullptr;  // name=value, or none
    const char* value = nullptr;
};

class Writer {
public:
    void spec(const Spec& s) { e_.family(s.name, s.type, s.help); }
    void add(const char* name, const Labels& l, double v) { e_.add_real(name, l, v); }
    void count(const char* name, const Labels& l, uint64_t v) { e_.add(name, l, v); }
    void rows(const std::map<std::string, uint64_t>& values, std::span<const RowMap> maps, const Labels& base = {}) {
        for (const RowMap& m : maps) {
            const auto it = values.find(m.row);
            if (it == values.end()) continue;
            Labels l = base;
            if (m.label) l.emplace_back(m.label, m.value);
            e_.add(m.family, l, it->second);
        }
    }
    // One gauge per state: 1 for the one in force, 0 for the others.
    void one_hot(const char* name, Labels base, const char* label, std::span<const std::string_view> states,
                 std::string_view current) {
        base.emplace_back(label, "");
        for (std::string_view s : states) {
            base.back().second = std::string(s);
            e_.add(name, base, s == current ? 1 : 0);
        }
    }
    Exposition& exposition() { return e_; }

private:
    Exposition e_;
};

constexpr std::array<std::string_view, 2> kRoles{"active", "standby"};
constexpr std::array<std::string_view, 3> kNodeAdmin{"enabled", "draining", "disabled"};
constexpr std::array<std::string_view, 8> kBackendStates{"up",           "down",       "drain",       "disabled",
                                                        "check_failed", "agent_down", "agent_maint", "agent_drain"};
constexpr std::array<std::string_view, 5> kBackendAdmin{"in-service", "oos", "maintenance", "sticky", "failed"};

// ---- dlbad's own ---------------------------------------------------------------------------------------------

void daemon_metrics(Writer& w, const NodeTables& in) {
    w.spec({"dlba_node_up", Type::gauge, "Whether this node's dlbad hears node N's heartbeats (1) or not (0)."});
    w.spec({"dlba_node_heartbeat_age_seconds", Type::gauge, "Time since node N's last heartbeat."});
    w.spec({"dlba_node_table_version", Type::gauge, "Bucket-table version node N's heartbeat carries."});
    w.spec({"dlba_node_same_config", Type::gauge, "Whether node N runs the same configuration file as this node."});
    w.spec({"dlba_failover_role", Type::gauge, "The election's view of this node's role, one-hot."});
    w.spec({"dlba_failover_term", Type::gauge, "The election term."});
    w.spec({"dlba_takeovers_total", Type::counter, "Times this node's dlbad made its scheduler the active one."});
    w.spec({"dlba_failover_isolated", Type::gauge, "Whether most peers' heartbeats fail to verify with our keys."});
    w.spec({"dlba_sweeps_total", Type::counter, "Status sweeps this node's dlbad ran (while its scheduler is active)."});
    w.spec({"dlba_sweep_last_timestamp_seconds", Type::gauge, "Unix time of the last status sweep (0: never)."});
    w.spec({"dlba_node_sweep_failed", Type::gauge, "Whether the status sweep marked node N failed."});
    if (const auto& f = in.failover) {
        const auto n = column(*f, "node");
        for (const auto& row : f->rows) {
            if (!n) break;
            const Labels l{{"node", row_id(row, *n)}};
            if (const auto v = cell(*f, row, "alive")) w.add("dlba_node_up", l, *v);
            if (const auto v = cell(*f, row, "heard_ms_ago")) w.add("dlba_node_heartbeat_age_seconds", l, *v / 1000);
            if (const auto v = cell(*f, row, "table_version")) w.add("dlba_node_table_version", l, *v);
            if (const auto v = cell(*f, row, "same_config")) w.add("dlba_node_same_config", l, *v);
        }
        w.one_hot("dlba_failover_role", {}, "role", kRoles, meta_text(*f, "role"));
        if (const auto v = meta(*f, "term")) w.add("dlba_failover_term", {}, *v);
        if (const auto v = meta(*f, "takeovers")) w.add("dlba_takeovers_total", {}, *v);
        if (const auto v = meta(*f, "auth.isolated")) w.add("dlba_failover_isolated", {}, *v);
    }
    if (const auto& s = in.sweep) {
        if (const auto v = meta(*s, "sweeps")) w.add("dlba_sweeps_total", {}, *v);
        w.add("dlba_sweep_last_timestamp_seconds", {}, meta(*s, "last_sweep").value_or(0));
        const auto n = column(*s, "node");
        for (const auto& row : s->rows) {
            if (!n) break;
            if (const auto v = cell(*s, row, "failed_by_sweep"))
                w.add("dlba_node_sweep_failed", {{"node", row_id(row, *n)}}, *v);
        }
    }
}

// ---- the scheduler -------------------------------------------------------------------------------------------

constexpr RowMap kSchedCounterRows[] = {
    {"rx", "dlba_scheduler_rx_packets_total"},
    {"rx_bytes", "dlba_scheduler_rx_bytes_total"},
    {"forwarded", "dlba_scheduler_forwarded_packets_total"},
    {"forwarded_bytes", "dlba_scheduler_forwarded_bytes_total"},
    {"arp_replies", "dlba_scheduler_arp_replies_total"},
    {"echo_replies", "dlba_scheduler_echo_replies_total"},
    {"garp_sent", "dlba_scheduler_gratuitous_arps_total"},
    {"fragments_first", "dlba_scheduler_fragments_total", "kind", "first"},
    {"fragments_later", "dlba_scheduler_fragments_total", "kind", "later"},
    {"icmp_errors_steered", "dlba_scheduler_icmp_errors_steered_total"},
    {"direct_taken_over", "dlba_scheduler_direct_taken_over_packets_total"},
    {"tx", "dlba_scheduler_tx_packets_total"},
    {"tx_failed", "dlba_scheduler_tx_failed_packets_total"},
    {"alloc_failed", "dlba_scheduler_alloc_failures_total"},
    {"polls", "dlba_scheduler_polls_total"},
    {"idle_sleeps", "dlba_scheduler_idle_sleeps_total"},
};

constexpr RowMap kSyncRows[] = {
    {"pulls", "dlba_sync_pulls_total"},
    {"deltas", "dlba_sync_transfers_total", "kind", "delta"},
    {"fulls", "dlba_sync_transfers_total", "kind", "full"},
    {"up_to_date", "dlba_sync_transfers_total", "kind", "up_to_date"},
    {"errors", "dlba_sync_errors_total"},
    {"served", "dlba_sync_served_total"},
    {"bytes_in", "dlba_sync_received_bytes_total"},
};

void scheduler_metrics(Writer& w, const NodeTables& in) {
    w.spec({"dlba_scheduler_role", Type::gauge, "The local scheduler's role, one-hot (all 0: it does not answer)."});
    for (const Spec& s : std::initializer_list<Spec>{
             {"dlba_scheduler_rx_packets_total", Type::counter, "Frames the data plane received."},
             {"dlba_scheduler_rx_bytes_total", Type::counter, "Bytes the data plane received."},
             {"dlba_scheduler_forwarded_packets_total", Type::counter, "Frames forwarded to a node."},
             {"dlba_scheduler_forwarded_bytes_total", Type::counter, "Bytes forwarded to a node."},
             {"dlba_scheduler_dropped_packets_total", Type::counter, "Frames dropped, by reason."},
             {"dlba_scheduler_arp_replies_total", Type::counter, "ARP replies sent."},
             {"dlba_scheduler_echo_replies_total", Type::counter, "ICMP echo replies sent."},
             {"dlba_scheduler_gratuitous_arps_total", Type::counter, "Gratuitous ARPs sent."},
             {"dlba_scheduler_fragments_total", Type::counter, "IP fragments forwarded, first or later."},
             {"dlba_scheduler_icmp_errors_steered_total", Type::counter, "ICMP errors sent to the flow's node."},
             {"dlba_scheduler_direct_taken_over_packets_total", Type::counter,
              "Frames to a node's direct IP forwarded to another node."},
             {"dlba_scheduler_tx_packets_total", Type::counter, "Frames transmitted."},
             {"dlba_scheduler_tx_failed_packets_total", Type::counter, "Frames the port did not take."},
             {"dlba_scheduler_alloc_failures_total", Type::counter, "Packet buffer allocation failures."},
             {"dlba_scheduler_polls_total", Type::counter, "Data-plane poll loop iterations."},
             {"dlba_scheduler_idle_sleeps_total", Type::counter, "Sleeps of the idle poll loop."},
             {"dlba_scheduler_lease_seconds", Type::gauge, "The active role's lease from dlbad (0: none)."},
             {"dlba_scheduler_last_sweep_timestamp_seconds", Type::gauge, "Unix time of the last sweep (0: never)."},
             {"dlba_scheduler_node_weight", Type::gauge, "Node N's weight in the bucket table."},
             {"dlba_scheduler_node_failed", Type::gauge, "Whether node N is marked failed (sweep or operator)."},
             {"dlba_scheduler_node_admin_state", Type::gauge, "Node N's admin state, one-hot."},
             {"dlba_scheduler_node_packets_total", Type::counter, "Frames forwarded to node N."},
             {"dlba_scheduler_node_bytes_total", Type::counter, "Bytes forwarded to node N."},
             {"dlba_bucket_table_size", Type::gauge, "Buckets in the table."},
             {"dlba_bucket_table_version", Type::gauge, "The bucket table's version."},
             {"dlba_bucket_table_assigned", Type::gauge, "Buckets assigned to a node."},
             {"dlba_bucket_table_unassigned", Type::gauge, "Buckets assigned to no node."},
             {"dlba_bucket_table_node_buckets", Type::gauge, "Buckets assigned to node N."},
             {"dlba_bucket_table_node_busy_buckets", Type::gauge, "Node N's buckets used within the idle timeout."},
             {"dlba_bucket_assignments_total", Type::counter, "Buckets assigned (first use)."},
             {"dlba_bucket_reassignments_total", Type::counter, "Buckets moved to another node."},
             {"dlba_bucket_no_node_total", Type::counter, "Lookups that found no node to assign."},
             {"dlba_sync_version_lag", Type::gauge, "Table versions this standby is behind its sync source (0: none)."},
             {"dlba_sync_pulls_total", Type::counter, "Table-sync pulls made."},
             {"dlba_sync_transfers_total", Type::counter, "Table-sync answers received, by kind."},
             {"dlba_sync_errors_total", Type::counter, "Table-sync pulls that failed."},
             {"dlba_sync_served_total", Type::counter, "Table-sync pulls this scheduler answered."},
             {"dlba_sync_received_bytes_total", Type::counter, "Table-sync bytes received."},
             {"dlba_sync_auth_dropped_total", Type::counter, "Table-sync messages dropped by authentication."},
             {"dlba_sync_last_success_timestamp_seconds", Type::gauge, "Unix time of the last good pull (0: never)."},
         }) {
        w.spec(s);
    }
    std::string role;
    if (const auto& s = in.sched_status) {
        role = meta_text(*s, "role");
        w.add("dlba_scheduler_lease_seconds", {}, meta(*s, "lease_ms").value_or(0) / 1000);
        w.add("dlba_scheduler_last_sweep_timestamp_seconds", {}, meta(*s, "last_sweep").value_or(0));
        if (const auto v = meta(*s, "table_size")) w.add("dlba_bucket_table_size", {}, *v);
        w.count("dlba_bucket_table_version", {}, s->version);
        const auto n = column(*s, "node");
        for (const auto& row : s->rows) {
            if (!n) break;
            const Labels l{{"node", row_id(row, *n)}};
            if (const auto v = cell(*s, row, "weight")) w.add("dlba_scheduler_node_weight", l, *v);
            if (const auto v = cell(*s, row, "failed")) w.add("dlba_scheduler_node_failed", l, *v);
            w.one_hot("dlba_scheduler_node_admin_state", l, "state", kNodeAdmin, text_cell(*s, row, "state"));
            if (const auto v = cell(*s, row, "packets")) w.add("dlba_scheduler_node_packets_total", l, *v);
            if (const auto v = cell(*s, row, "bytes")) w.add("dlba_scheduler_node_bytes_total", l, *v);
            if (const auto v = cell(*s, row, "buckets")) w.add("dlba_bucket_table_node_buckets", l, *v);
        }
    } else if (const auto& c = in.sched_counters) {
        role = meta_text(*c, "role");
    }
    if (in.sched_status || in.sched_counters) w.one_hot("dlba_scheduler_role", {}, "role", kRoles, role);
    if (const auto& c = in.sched_counters) {
        const auto values = pairs(*c);
        w.rows(values, kSchedCounterRows);
        for (const auto& [name, value] : values) {
            if (name.starts_with("drop.")) {
                w.count("dlba_scheduler_dropped_packets_total", {{"reason", name.substr(5)}}, value);
            }
        }
    }
    if (const auto& h = in.sched_hash) {
        if (const auto v = meta(*h, "assigned")) w.add("dlba_bucket_table_assigned", {}, *v);
        if (const auto v = meta(*h, "unassigned")) w.add("dlba_bucket_table_unassigned", {}, *v);
        if (const auto v = meta(*h, "assignments")) w.add("dlba_bucket_assignments_total", {}, *v);
        if (const auto v = meta(*h, "reassignments")) w.add("dlba_bucket_reassignments_total", {}, *v);
        if (const auto v = meta(*h, "no_node")) w.add("dlba_bucket_no_node_total", {}, *v);
        const auto n = column(*h, "node");
        for (const auto& row : h->rows) {
            if (!n) break;
            if (const auto v = cell(*h, row, "busy"))
                w.add("dlba_bucket_table_node_busy_buckets", {{"node", row_id(row, *n)}}, *v);
        }
    }
    if (const auto& s = in.sched_sync) {
        const auto values = pairs(*s);
        uint64_t lag = 0;
        const auto local = values.find("local_version");
        const auto source = values.find("source_version");
        const bool has_source = s->meta.contains("source") && s->meta["source"].is_string();
        if (has_source && local != values.end() && source != values.end() && source->second > local->second) {
            lag = source->second - local->second;
        }
        w.count("dlba_sync_version_lag", {}, lag);
        w.rows(values, kSyncRows);
        for (const auto& [name, value] : values) {
            if (name.starts_with("auth.dropped.")) {
                w.count("dlba_sync_auth_dropped_total", {{"reason", name.substr(13)}}, value);
            }
        }
        w.add("dlba_sync_last_success_timestamp_seconds", {}, meta(*s, "last_ok").value_or(0));
    }
}

// ---- the DLBA server -----------------------------------------------------------------------------------------

constexpr RowMap kServerRows[] = {
    {"connections_open", "dlba_server_connections"},
    {"connections_accepted", "dlba_server_connections_accepted_total"},
    {"connections_refused", "dlba_server_connections_refused_total", "reason", "max_connections"},
    {"connections_refused_per_ip", "dlba_server_connections_refused_total", "reason", "max_connections_per_ip"},
    {"requests", "dlba_server_requests_total"},
    {"responses_1xx", "dlba_server_responses_total", "code_class", "1xx"},
    {"responses_2xx", "dlba_server_responses_total", "code_class", "2xx"},
    {"responses_3xx", "dlba_server_responses_total", "code_class", "3xx"},
    {"responses_4xx", "dlba_server_responses_total", "code_class", "4xx"},
    {"responses_5xx", "dlba_server_responses_total", "code_class", "5xx"},
    {"local_errors", "dlba_server_local_errors_total"},
    {"no_backend", "dlba_server_no_backend_total"},
    {"retries", "dlba_server_retries_total"},
    {"aborted", "dlba_server_aborted_total"},
    {"header_timeouts", "dlba_server_timeouts_total", "kind", "header"},
    {"handshake_timeouts", "dlba_server_timeouts_total", "kind", "handshake"},
    {"idle_timeouts", "dlba_server_timeouts_total", "kind", "idle"},
    {"bytes_in", "dlba_server_received_bytes_total"},
    {"bytes_out", "dlba_server_sent_bytes_total"},
    {"tls_resumed", "dlba_tls_handshakes_total", "result", "resumed"},
    {"tls_handshake_failures", "dlba_tls_handshakes_total", "result", "failed"},
    {"cdn_rewritten", "dlba_server_cdn_responses_total", "outcome", "rewritten"},
    {"cdn_passed", "dlba_server_cdn_responses_total", "outcome", "passed"},
    {"cdn_urls", "dlba_server_cdn_urls_rewritten_total"},
    {"queued", "dlba_server_qos_queued_requests"},
    {"queue_timeouts", "dlba_server_qos_outcomes_total", "outcome", "timeout"},
    {"queue_full", "dlba_server_qos_outcomes_total", "outcome", "full"},
    {"queue_abandoned", "dlba_server_qos_outcomes_total", "outcome", "abandoned"},
    {"queue_waited", "dlba_server_qos_outcomes_total", "outcome", "waited"},
    {"pins_set", "dlba_server_pins_total", "outcome", "set"},
    {"pins_followed", "dlba_server_pins_total", "outcome", "followed"},
    {"pins_broken", "dlba_server_pins_total", "outcome", "broken"},
    {"pins_invalid", "dlba_server_pins_total", "outcome", "invalid"},
    {"pins_cleared", "dlba_server_pins_total", "outcome", "cleared"},
};

// A counter column of the backends table under a Prometheus name.
struct ColumnMap {
    const char* column;
    const char* family;
    const char* label = nullptr;
    const char* value = nullptr;
};
constexpr ColumnMap kBackendColumns[] = {
    {"weight", "dlba_backend_weight"},
    {"open_conns", "dlba_backend_current_requests"},
    {"hits", "dlba_backend_attempts_total"},
    {"errors", "dlba_backend_errors_total"},
    {"connect_failures", "dlba_backend_connect_failures_total"},
    {"bad_responses", "dlba_backend_bad_responses_total"},
    {"pooled_reuses", "dlba_backend_pooled_reuses_total"},
    {"cookie_groups", "dlba_backend_sessions_started_total"},
    {"backend_resumed", "dlba_backend_tls_handshakes_total", "result", "resumed"},
    {"tls_verify_failures", "dlba_backend_tls_verify_failures_total"},
    {"max_inflight", "dlba_backend_max_inflight"},
    {"queued", "dlba_backend_qos_queued_requests"},
    {"queue_timeouts", "dlba_backend_qos_timeouts_total"},
    {"idle_pooled", "dlba_backend_idle_pooled_connections"},
    {"tls_bound", "dlba_backend_tls_sessions_bound_total", "how", "first"},
    {"tls_rebound", "dlba_backend_tls_sessions_bound_total", "how", "rebound"},
    {"redirects", "dlba_backend_redirects_total"},
    {"agent_errors", "dlba_backend_agent_errors_total"},
};

void server_metrics(Writer& w, const NodeTables& in) {
    for (const Spec& s : std::initializer_list<Spec>{
             {"dlba_server_connections", Type::gauge, "Client connections open."},
             {"dlba_server_connections_accepted_total", Type::counter, "Client connections accepted."},
             {"dlba_server_connections_refused_total", Type::counter, "Client connections refused, by limit."},
             {"dlba_server_requests_total", Type::counter, "Request heads parsed."},
             {"dlba_server_responses_total", Type::counter, "Responses sent to clients, by status class."},
             {"dlba_server_local_errors_total", Type::counter, "Error answers the proxy made itself."},
             {"dlba_server_no_backend_total", Type::counter, "503s: no back end could take the request."},
             {"dlba_server_retries_total", Type::counter, "Requests sent again to another back end."},
             {"dlba_server_aborted_total", Type::counter, "Client connections cut after response bytes were sent."},
             {"dlba_server_timeouts_total", Type::counter, "Client connections timed out, by phase."},
             {"dlba_server_received_bytes_total", Type::counter, "Bytes from clients (after TLS)."},
             {"dlba_server_sent_bytes_total", Type::counter, "Bytes to clients (before TLS)."},
             {"dlba_tls_handshakes_total", Type::counter, "Client TLS handshakes, by result (full, resumed, failed)."},
             {"dlba_server_cdn_responses_total", Type::counter, "Answers of cdn services, rewritten or passed."},
             {"dlba_server_cdn_urls_rewritten_total", Type::counter, "URLs rewritten to the CDN host."},
             {"dlba_server_qos_queued_requests", Type::gauge, "Requests waiting in QoS queues."},
             {"dlba_server_qos_outcomes_total", Type::counter, "QoS queue outcomes."},
             {"dlba_server_pins_total", Type::counter, "Stateful-URI pin outcomes (set, followed, broken, invalid, cleared)."},
             {"dlba_server_uptime_seconds", Type::gauge, "Time since the DLBA server started."},
             {"dlba_server_workers", Type::gauge, "Worker threads of the DLBA server."},
             {"dlba_server_config_generation", Type::gauge, "Configuration generation in force (1 at start)."},
             {"dlba_server_config_loaded_timestamp_seconds", Type::gauge, "Unix time the configuration was loaded."},
             {"dlba_server_config_reloads_refused_total", Type::counter, "Reloads whose file was refused."},
             {"dlba_server_sweep_auth_dropped_total", Type::counter, "Sweep requests dropped by authentication."},
             {"dlba_backend_up", Type::gauge, "Whether the back end's state is up (1) or anything else (0)."},
             {"dlba_backend_state", Type::gauge, "The back end's state, one-hot."},
             {"dlba_backend_admin_state", Type::gauge, "The operator's admin state of the back end, one-hot."},
             {"dlba_backend_weight", Type::gauge, "The back end's weight."},
             {"dlba_backend_current_requests", Type::gauge, "Requests in flight to the back end."},
             {"dlba_backend_attempts_total", Type::counter, "Requests sent to the back end (each attempt)."},
             {"dlba_backend_errors_total", Type::counter, "Connect failures, timeouts, resets, bad responses."},
             {"dlba_backend_connect_failures_total", Type::counter, "Connects refused or timed out."},
             {"dlba_backend_bad_responses_total", Type::counter, "Answers that broke the framing rules."},
             {"dlba_backend_pooled_reuses_total", Type::counter, "Requests sent over an idle pooled connection."},
             {"dlba_backend_sessions_started_total", Type::counter, "Persistent sessions started on the back end."},
             {"dlba_backend_tls_handshakes_total", Type::counter, "TLS handshakes to the back end, full or resumed."},
             {"dlba_backend_tls_verify_failures_total", Type::counter, "Back-end certificates that did not verify."},
             {"dlba_backend_max_inflight", Type::gauge, "The back end's QoS limit of requests in flight (0: none)."},
             {"dlba_backend_qos_queued_requests", Type::gauge, "Requests waiting that the back end could take."},
             {"dlba_backend_qos_timeouts_total", Type::counter, "Waiting requests that timed out."},
             {"dlba_backend_idle_pooled_connections", Type::gauge, "Idle pooled connections to the back end."},
             {"dlba_backend_tls_sessions_bound_total", Type::counter, "TLS sessions bound to the back end."},
             {"dlba_backend_redirects_total", Type::counter, "Requests answered with a redirect to the back end."},
             {"dlba_backend_agent_errors_total", Type::counter, "Unreadable load-agent answers."},
             {"dlba_backend_response_seconds_average", Type::gauge,
              "Moving average (alpha 1/8) of the response time, connect to response head."},
             {"dlba_backend_requests_total", Type::counter, "Back-end responses passed to clients, by status class."},
             {"dlba_backend_response_seconds", Type::histogram,
              "Back-end response time, connect start to complete response head."},
         }) {
        w.spec(s);
    }
    if (const auto& s = in.server_status) {
        const auto values = pairs(*s);
        w.rows(values, kServerRows);
        const auto hs = values.find("tls_handshakes");
        const auto resumed = values.find("tls_resumed");
        if (hs != values.end()) {
            const uint64_t r = resumed == values.end() ? 0 : resumed->second;
            w.count("dlba_tls_handshakes_total", {{"result", "full"}}, hs->second > r ? hs->second - r : 0);
        }
        if (const auto v = meta(*s, "uptime_s")) w.add("dlba_server_uptime_seconds", {}, *v);
        if (const auto v = meta(*s, "workers")) w.add("dlba_server_workers", {}, *v);
        if (const auto v = meta(*s, "config_generation")) w.add("dlba_server_config_generation", {}, *v);
        if (const auto v = meta(*s, "config_loaded_unix")) w.add("dlba_server_config_loaded_timestamp_seconds", {}, *v);
        if (const auto v = meta(*s, "config_reloads_refused")) w.add("dlba_server_config_reloads_refused_total", {}, *v);
        for (const auto& [key, value] : s->meta.items()) {
            if (const auto v = number(value); v && key.starts_with("auth.sweep_dropped.")) {
                w.add("dlba_server_sweep_auth_dropped_total", {{"reason", key.substr(19)}}, *v);
            }
        }
    }
    if (const auto& b = in.server_backends) {
        const auto key = column(*b, "key");
        for (const auto& row : b->rows) {
            if (!key) break;
            const Labels l{{"backend", row_id(row, *key)}};
            const std::string state = text_cell(*b, row, "state");
            w.add("dlba_backend_up", l, state == "up" ? 1 : 0);
            w.one_hot("dlba_backend_state", l, "state", kBackendStates, state);
            w.one_hot("dlba_backend_admin_state", l, "state", kBackendAdmin, text_cell(*b, row, "admin"));
            for (const ColumnMap& m : kBackendColumns) {
                const auto v = cell(*b, row, m.column);
                if (!v) continue;
                Labels ml = l;
                if (m.label) ml.emplace_back(m.label, m.value);
                w.add(m.family, ml, *v);
            }
            const auto hs = cell(*b, row, "backend_handshakes");
            const auto resumed = cell(*b, row, "backend_resumed");
            if (hs) {
                const double full = *hs - resumed.value_or(0);
                w.add("dlba_backend_tls_handshakes_total", {l[0], {"result", "full"}}, full > 0 ? full : 0);
            }
            if (const auto v = cell(*b, row, "avg_resp_ms")) w.add("dlba_backend_response_seconds_average", l, *v / 1000);
        }
    }
    if (const auto& t = in.server_latency) {
        // Columns: backend, responses_1xx..5xx, sum_s, then le_BOUND.. le_+Inf (cumulative).
        std::vector<double> bounds;
        std::vector<size_t> le_columns;
        for (size_t c = 0; c < t->columns.size(); ++c) {
            const std::string& name = t->columns[c].name;
            if (!name.starts_with("le_")) continue;
            le_columns.push_back(c);
            if (name != "le_+Inf") bounds.push_back(std::strtod(name.c_str() + 3, nullptr));
        }
        const auto key = column(*t, "backend");
        const bool histogram = le_columns.size() == bounds.size() + 1 && !le_columns.empty();
        for (const auto& row : t->rows) {
            if (!key) break;
            const Labels l{{"backend", row_id(row, *key)}};
            for (int c = 1; c <= 5; ++c) {
                const std::string cls = std::to_string(c) + "xx";
                if (const auto v = cell(*t, row, "responses_" + cls)) {
                    w.add("dlba_backend_requests_total", {l[0], {"code_class", cls}}, *v);
                }
            }
            if (!histogram) continue;
            std::vector<uint64_t> cumulative;
            for (size_t c : le_columns) {
                cumulative.push_back(row[c].is_number() ? static_cast<uint64_t>(row[c].get<double>()) : 0);
            }
            w.exposition().add_histogram("dlba_backend_response_seconds", l, bounds, cumulative,
                                         cell(*t, row, "sum_s").value_or(0));
        }
    }
}

}  // namespace

std::string render_node_metrics(const NodeTables& in) {
    Writer w;
    w.spec({"dlba_component_up", Type::gauge, "Whether this node's daemon answered this scrape (1) or not (0)."});
    w.spec({"dlba_scrape_duration_seconds", Type::gauge, "Time dlbad took to gather this scrape's tables."});
    const Labels node{{"node", std::to_string(in.node)}};
    w.add("dlba_component_up", {{"component", "dlbad"}}, 1);
    w.add("dlba_component_up", {{"component", "scheduler"}}, in.sched_counters || in.sched_status ? 1 : 0);
    if (in.has_server) {
        w.add("dlba_component_up", {{"component", "server"}}, in.server_status || in.server_backends ? 1 : 0);
    }
    w.add("dlba_scrape_duration_seconds", {}, in.scrape_seconds);
    daemon_metrics(w, in);
    scheduler_metrics(w, in);
    if (in.has_server) server_metrics(w, in);
    return w.exposition().text();
}

}  // namespace dlba::metrics
