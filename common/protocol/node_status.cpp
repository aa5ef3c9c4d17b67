#include "protocol/node_status.hpp"

#include <array>

#include "net_types.hpp"

namespace dlba::proto {

namespace {

using io::ColumnType;
using nlohmann::json;

constexpr std::string_view kTableName = "node-status";

// The meta facts that are not server counters.
constexpr std::array<std::string_view, 5> kFacts{"node", "time", "server", "healthy", "reason"};

bool is_fact(std::string_view key) {
    for (std::string_view f : kFacts) {
        if (f == key) return true;
    }
    return false;
}

bool fail(std::string* err, std::string message) {
    if (err) *err = std::move(message);
    return false;
}

// The back-end columns, in table order; a row's cell by column (the indexes looked up once per table), or null where
// the table has no such column (an older producer).
enum Column : size_t {
    c_key, c_address, c_port, c_state, c_weight, c_open_conns, c_hits, c_avg_resp_ms, c_errors, c_connect_failures,
    c_bad_responses, c_pooled_reuses, c_cookie_groups, c_tls, c_backend_handshakes, c_backend_resumed,
    c_tls_verify_failures, c_max_inflight, c_queued, c_queue_timeouts, c_services, c_idle_pooled, c_tls_bound,
    c_tls_rebound, c_redirects, c_admin, c_check, c_agent, c_agent_errors, c_tunnels, c_tunnels_open, kColumns
};
constexpr std::array<std::string_view, kColumns> kColumnNames{
    "key", "address", "port", "state", "weight", "open_conns", "hits", "avg_resp_ms", "errors", "connect_failures",
    "bad_responses", "pooled_reuses", "cookie_groups", "tls", "backend_handshakes", "backend_resumed",
    "tls_verify_failures", "max_inflight", "queued", "queue_timeouts", "services", "idle_pooled", "tls_bound",
    "tls_rebound", "redirects", "admin", "check", "agent", "agent_errors", "tunnels", "tunnels_open"};

struct Columns {
    std::array<std::optional<size_t>, kColumns> at;

    explicit Columns(const io::Table& t) {
        for (size_t c = 0; c < t.columns.size(); ++c) {
            for (size_t i = 0; i < kColumnNames.size(); ++i) {
                if (t.columns[c].name == kColumnNames[i]) at[i] = c;
            }
        }
    }
    const json& cell(const std::vector<json>& row, Column name) const {
        static const json null;
        return at[name] && *at[name] < row.size() ? row[*at[name]] : null;
    }
};

template <class T>
T number_or(const json& v, T fallback) {
    return v.is_number() ? v.get<T>() : fallback;
}

std::string string_or_empty(const json& v) { return v.is_string() ? v.get<std::string>() : std::string(); }

// nlohmann keeps C++ ints signed but parses non-negative text as unsigned: both spellings count.
bool is_count(const json& v) { return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0); }

}  // namespace

void put_backend_rows(io::Table& t, const std::vector<BackendRow>& rows) {
    constexpr std::array<ColumnType, kColumns> types{
        ColumnType::string,           ColumnType::ipv4,             ColumnType::unsigned_integer,
        ColumnType::string,           ColumnType::unsigned_integer, ColumnType::unsigned_integer,
        ColumnType::unsigned_integer, ColumnType::floating,         ColumnType::unsigned_integer,
        ColumnType::unsigned_integer, ColumnType::unsigned_integer, ColumnType::unsigned_integer,
        ColumnType::unsigned_integer, ColumnType::boolean,          ColumnType::unsigned_integer,
        ColumnType::unsigned_integer, ColumnType::unsigned_integer, ColumnType::unsigned_integer,
        ColumnType::unsigned_integer, ColumnType::unsigned_integer, ColumnType::string,
        ColumnType::unsigned_integer, ColumnType::unsigned_integer, ColumnType::unsigned_integer,
        ColumnType::unsigned_integer, ColumnType::string,           ColumnType::string,
        ColumnType::string,           ColumnType::unsigned_integer, ColumnType::unsigned_integer,
        ColumnType::unsigned_integer};
    t.columns.clear();
    for (size_t c = 0; c < kColumns; ++c) t.columns.push_back({std::string(kColumnNames[c]), types[c]});
    for (const BackendRow& b : rows) {
        t.rows.push_back({b.key, format_ipv4(b.address), b.port, b.state, b.weight, b.open_conns, b.hits,
                          known_or_null(b.avg_resp_ms), b.errors, b.connect_failures, b.bad_responses,
                          b.pooled_reuses, known_or_null(b.cookie_groups), b.tls, b.backend_handshakes,
                          b.backend_resumed, b.tls_verify_failures, b.max_inflight, b.queued, b.queue_timeouts,
                          b.services, b.idle_pooled, b.tls_bound, b.tls_rebound, b.redirects, b.admin, b.check,
                          b.agent, b.agent_errors, b.tunnels, b.tunnels_open});
    }
}

std::optional<uint64_t> NodeStatus::counter(std::string_view name) const {
    const auto it = counters.find(std::string(name));
    return it == counters.end() ? std::nullopt : std::optional<uint64_t>(it->second);
}

io::Table NodeStatus::to_table() const {
    io::Table t;
    t.name = std::string(kTableName);
    t.source = source;
    t.version = 1;
    t.meta = {{"node", node}, {"time", time}, {"server", server}, {"healthy", healthy}};
    if (!healthy) t.meta["reason"] = reason;
    for (const auto& [name, value] : counters) t.meta[name] = value;
    put_backend_rows(t, backends);
    return t;
}

std::optional<NodeStatus> NodeStatus::from_table(const io::Table& t, std::string* err) {
    if (t.name != kTableName) {
        fail(err, "not a node-status table: '" + t.name + "'");
        return std::nullopt;
    }
    NodeStatus s;
    s.source = t.source;
    const json& m = t.meta;
    if (!m.contains("node") || !is_count(m["node"]) || m["node"].get<uint64_t>() > UINT16_MAX) {
        fail(err, "node-status without a node number");
        return std::nullopt;
    }
    s.node = m["node"].get<uint16_t>();
    s.time = number_or<int64_t>(m.value("time", json()), 0);
    s.server = string_or_empty(m.value("server", json()));
    s.healthy = m.value("healthy", json()).is_boolean() && m["healthy"].get<bool>();
    s.reason = string_or_empty(m.value("reason", json()));
    for (const auto& [key, value] : m.items()) {
        if (!is_fact(key) && is_count(value)) s.counters[key] = value.get<uint64_t>();
    }
    const Columns col(t);
    if (!t.rows.empty() && !col.at[c_key]) {
        fail(err, "node-status rows without a \"key\" column");
        return std::nullopt;
    }
    for (const auto& row : t.rows) {
        BackendRow b;
        b.key = string_or_empty(col.cell(row, c_key));
        b.address = parse_ipv4(string_or_empty(col.cell(row, c_address))).value_or(0);
        b.port = number_or<uint16_t>(col.cell(row, c_port), 0);
        b.state = string_or_empty(col.cell(row, c_state));
        b.admin = string_or_empty(col.cell(row, c_admin));
        b.weight = number_or<uint32_t>(col.cell(row, c_weight), 0);
        b.open_conns = number_or<uint64_t>(col.cell(row, c_open_conns), 0);
        b.hits = number_or<uint64_t>(col.cell(row, c_hits), 0);
        if (const json& a = col.cell(row, c_avg_resp_ms); a.is_number()) b.avg_resp_ms = a.get<double>();
        b.errors = number_or<uint64_t>(col.cell(row, c_errors), 0);
        b.connect_failures = number_or<uint64_t>(col.cell(row, c_connect_failures), 0);
        b.bad_responses = number_or<uint64_t>(col.cell(row, c_bad_responses), 0);
        b.pooled_reuses = number_or<uint64_t>(col.cell(row, c_pooled_reuses), 0);
        if (const json& g = col.cell(row, c_cookie_groups); is_count(g)) b.cookie_groups = g.get<uint64_t>();
        if (const json& tls = col.cell(row, c_tls); tls.is_boolean()) b.tls = tls.get<bool>();
        b.backend_handshakes = number_or<uint64_t>(col.cell(row, c_backend_handshakes), 0);
        b.backend_resumed = number_or<uint64_t>(col.cell(row, c_backend_resumed), 0);
        b.tls_verify_failures = number_or<uint64_t>(col.cell(row, c_tls_verify_failures), 0);
        b.max_inflight = number_or<uint64_t>(col.cell(row, c_max_inflight), 0);
        b.queued = number_or<uint64_t>(col.cell(row, c_queued), 0);
        b.queue_timeouts = number_or<uint64_t>(col.cell(row, c_queue_timeouts), 0);
        b.redirects = number_or<uint64_t>(col.cell(row, c_redirects), 0);
        b.services = string_or_empty(col.cell(row, c_services));
        b.idle_pooled = number_or<uint64_t>(col.cell(row, c_idle_pooled), 0);
        b.tls_bound = number_or<uint64_t>(col.cell(row, c_tls_bound), 0);
        b.tls_rebound = number_or<uint64_t>(col.cell(row, c_tls_rebound), 0);
        if (const json& k = col.cell(row, c_check); k.is_string()) b.check = k.get<std::string>();
        if (const json& a = col.cell(row, c_agent); a.is_string()) b.agent = a.get<std::string>();
        b.agent_errors = number_or<uint64_t>(col.cell(row, c_agent_errors), 0);
        b.tunnels = number_or<uint64_t>(col.cell(row, c_tunnels), 0);
        b.tunnels_open = number_or<uint64_t>(col.cell(row, c_tunnels_open), 0);
        s.backends.push_back(std::move(b));
    }
    return s;
}

NodeFigures summarise(const NodeStatus& s) {
    if (s.backends.empty()) return {};
    uint64_t hits = 0, open = 0;
    double weighted = 0;
    for (const BackendRow& b : s.backends) {
        hits += b.hits;
        open += b.open_conns;
        if (b.avg_resp_ms) weighted += *b.avg_resp_ms * static_cast<double>(b.hits);
    }
    // The server's own count is the node's open client connections; the back ends' sum counts requests in flight.
    if (const auto conns = s.counter("connections_open")) open = *conns;
    return {hits, open, hits ? weighted / static_cast<double>(hits) : 0.0};
}

void add_to_totals(const NodeStatus& s, BackendTotals& totals) {
    for (const BackendRow& b : s.backends) {
        BackendTotal& t = totals[b.key];
        if (b.address) t.address = b.address;
        if (b.cookie_groups) t.cookie_groups = t.cookie_groups.value_or(0) + *b.cookie_groups;
        t.hits += b.hits;
        t.open_conns += b.open_conns;
        if (!b.admin.empty()) t.admin[s.node] = b.admin;
    }
}

namespace {

// The nodes' common admin state of a back end, or each node's where they differ ("1:oos,2:in-service").
json admin_cell(const std::map<uint16_t, std::string>& by_node) {
    if (by_node.empty()) return nullptr;
    bool same = true;
    for (const auto& [n, a] : by_node) same = same && a == by_node.begin()->second;
    if (same) return by_node.begin()->second;
    std::string out;
    for (const auto& [n, a] : by_node) out += (out.empty() ? "" : ",") + std::to_string(n) + ":" + a;
    return out;
}

}  // namespace

void put_summary_rows(io::Table& t, const BackendTotals& totals) {
    t.columns = {{"backend", ColumnType::string}, {"address", ColumnType::ipv4},
                 {"cookie_groups", ColumnType::unsigned_integer}, {"total_hits", ColumnType::unsigned_integer},
                 {"total_open_conns", ColumnType::unsigned_integer}, {"admin", ColumnType::string}};
    for (const auto& [key, total] : totals) {
        t.rows.push_back({key, total.address ? json(format_ipv4(total.address)) : json(nullptr),
                          known_or_null(total.cookie_groups), total.hits, total.open_conns, admin_cell(total.admin)});
    }
}

}  // namespace dlba::proto
