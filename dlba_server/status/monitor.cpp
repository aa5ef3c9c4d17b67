#include "status/monitor.hpp"
#include "status/self_diagnosis.hpp"

#include "tls/providers.hpp"

#include <array>
#include <random>
#include <utility>
#include <variant>
#include <vector>

#include "metrics/prom_text.hpp"
#include "protocol/request.hpp"

namespace dlba::server {

namespace {

using io::ColumnType;
using proto::Verb;

// The services that use back end `b`, comma-separated.
std::string services_of(const Generation& gen, size_t b) {
    std::string out;
    for (const ServiceConfig& s : gen.config.services) {
        for (size_t i : s.backends) {
            if (i != b) continue;
            if (!out.empty()) out += ',';
            out += s.name;
        }
    }
    return out;
}

std::string listeners_text(const ServerConfig& server) {
    std::string out;
    for (const ListenerConfig& l : server.listeners) {
        if (!out.empty()) out += ", ";
        out += format_ipv4(l.address) + ":" + std::to_string(l.port) + (l.tls ? " https " : " http ") + l.service;
    }
    return out;
}

// Every back end as the `backends` table and the sweep answer show it, its per-worker counters summed.
std::vector<proto::BackendRow> backend_rows(const Generation& gen, const ProcessFacts& facts) {
    std::vector<proto::BackendRow> rows;
    for (size_t b = 0; b < gen.backends.size(); ++b) {
        const BackendState& st = *gen.backends[b];
        proto::BackendRow r;
        uint64_t cookie_groups = 0;
        for (size_t w = 0; w < st.worker_count(); ++w) {
            const BackendCounters& c = st.counters(w);
            r.hits += c.hits.get();
            r.errors += c.errors.get();
            r.connect_failures += c.connect_failures.get();
            r.bad_responses += c.bad_responses.get();
            r.pooled_reuses += c.pooled_reuses.get();
            r.backend_handshakes += c.tls_handshakes.get();
            r.backend_resumed += c.tls_resumed.get();
            r.tls_verify_failures += c.tls_verify_failures.get();
            cookie_groups += c.cookie_groups.get();
            r.idle_pooled += c.idle_pooled.get();
            r.tls_bound += c.tls_bound.get();
            r.tls_rebound += c.tls_rebound.get();
            r.redirects += c.redirects.get();
            r.tunnels += c.tunnels.get();
            r.tunnels_open += c.tunnels_open.get();
        }
        r.cookie_groups = cookie_groups;
        r.key = st.config().key;
        r.tls = st.config().tls.enabled;
        r.address = st.config().address;
        r.port = st.config().port;
        r.state = backend_status_name(st.status(facts.now_ms));
        r.admin = backend_admin_name(st.admin());
        r.weight = st.weight();
        r.open_conns = st.active();
        // Three decimals, cut rather than rounded: the figure never claims more than was measured.
        if (const double avg = st.average_ms(); avg >= 0) {
            r.avg_resp_ms = static_cast<double>(static_cast<int64_t>(avg * 1000)) / 1000;
        }
        r.max_inflight = st.max_inflight();
        r.queued = st.qos_waiters.load(std::memory_order_relaxed);
        r.queue_timeouts = st.qos_timeouts.load(std::memory_order_relaxed);
        r.services = services_of(gen, b);
        r.check = st.check_text();
        r.agent = st.agent_text();
        r.agent_errors = st.agent_errors();
        rows.push_back(std::move(r));
    }
    return rows;
}

// The status table's counters, in its row order: each worker's counter summed.
using WorkerCounterRow = CounterField<WorkerStats>;
#define ROW(field) DLBA_COUNTER_FIELD(WorkerStats, field)
constexpr WorkerCounterRow kConnectionRows[] = {
    ROW(connections_open), ROW(connections_accepted), ROW(connections_refused), ROW(connections_refused_per_ip),
    ROW(requests),
};
// After the responses by class.
constexpr WorkerCounterRow kOutcomeRows[] = {
    ROW(local_errors), ROW(no_backend), ROW(retries), ROW(aborted), ROW(header_timeouts), ROW(handshake_timeouts),
    ROW(idle_timeouts),
    ROW(bytes_in), ROW(bytes_out), ROW(tls_handshakes), ROW(tls_resumed), ROW(tls_handshake_failures),
    ROW(cdn_rewritten), ROW(cdn_passed), ROW(cdn_urls),
    ROW(h2_connections), ROW(h2_streams), ROW(h2_resets_received), ROW(h2_resets_sent), ROW(h2_limit_streams),
    ROW(h2_limit_headers), ROW(h2_limit_flood), ROW(h2_protocol_errors),
    ROW(cdn_rewritten), ROW(cdn_passed), ROW(cdn_urls), ROW(tunnels), ROW(tunnels_open), ROW(upgrades_ignored),
    ROW(pins_set), ROW(pins_followed), ROW(pins_broken), ROW(pins_invalid), ROW(pins_cleared),
};
#undef ROW

std::vector<std::pair<std::string, uint64_t>> status_counters(std::span<const WorkerStats* const> workers) {
    std::vector<std::pair<std::string, uint64_t>> out;
    const auto sum = [&](const WorkerCounterRow& r) {
        uint64_t v = 0;
        for (const WorkerStats* w : workers) v += (w->*r.field).get();
        out.emplace_back(r.name, v);
    };
    for (const WorkerCounterRow& r : kConnectionRows) sum(r);
    for (int c = 1; c <= 5; ++c) {
        uint64_t v = 0;
        for (const WorkerStats* w : workers) v += w->responses[c].get();
        out.emplace_back("responses_" + std::to_string(c) + "xx", v);
    }
    for (const WorkerCounterRow& r : kOutcomeRows) sum(r);
    return out;
}

// QoS (qos/qos_queues.hpp): the process's totals over its services, then per service that can queue its waiting
// requests by class ("queue.web.class0" .. "queue.web.class7") and its outcomes.
std::vector<std::pair<std::string, uint64_t>> qos_rows(const Generation& gen) {
    std::vector<std::pair<std::string, uint64_t>> out;
    uint64_t queued = 0, timeouts = 0, full = 0, abandoned = 0, waited = 0;
    for (const ServiceQos& q : gen.qos) {
        queued += q.state->total();
        timeouts += q.state->timeouts.load(std::memory_order_relaxed);
        full += q.state->full.load(std::memory_order_relaxed);
        abandoned += q.state->abandoned.load(std::memory_order_relaxed);
        waited += q.state->waited.load(std::memory_order_relaxed);
    }
    out.emplace_back("queued", queued);
    out.emplace_back("queue_timeouts", timeouts);
    out.emplace_back("queue_full", full);
    out.emplace_back("queue_abandoned", abandoned);
    out.emplace_back("queue_waited", waited);
    for (size_t i = 0; i < gen.qos.size(); ++i) {
        const ServiceQos& q = gen.qos[i];
        if (!q.enabled) continue;
        const std::string prefix = "queue." + gen.config.services[i].name + ".";
        for (uint8_t c = 0; c < kQosClasses; ++c) {
            out.emplace_back(prefix + "class" + std::to_string(c), q.state->queued[c].load(std::memory_order_relaxed));
        }
        out.emplace_back(prefix + "timeouts", q.state->timeouts.load(std::memory_order_relaxed));
        out.emplace_back(prefix + "full", q.state->full.load(std::memory_order_relaxed));
        out.emplace_back(prefix + "abandoned", q.state->abandoned.load(std::memory_order_relaxed));
    }
    return out;
}

// The facts every server table starts its meta with.
nlohmann::json process_meta(const Generation& gen, const ProcessFacts& facts) {
    return {{"node", gen.node},
            {"workers", facts.workers},
            {"uptime_s", facts.uptime_s},
            {"config_generation", gen.number}};
}

BackendAdmin admin_of(proto::BackendMode mode) {
    switch (mode) {
        case proto::BackendMode::in_service: return BackendAdmin::enabled;
        case proto::BackendMode::oos: return BackendAdmin::disabled;
        case proto::BackendMode::maintenance: return BackendAdmin::maintenance;
        case proto::BackendMode::sticky: return BackendAdmin::drain;
        case proto::BackendMode::failed: return BackendAdmin::failed;
    }
    return BackendAdmin::enabled;
}

// This process, told apart from the one before it on the same socket: dlbad replays the operator's admin state to
// a new instance (or a new configuration generation) of the server.
uint64_t process_instance() {
    static const uint64_t id = [] {
        std::random_device rd;
        return (static_cast<uint64_t>(rd()) << 32) ^ rd();
    }();
    return id;
}

}  // namespace

io::Table backends_table(const Generation& gen, const ProcessFacts& facts) {
    io::Table t;
    t.name = "backends";
    t.source = "server";
    t.version = 1;
    t.meta = process_meta(gen, facts);
    proto::put_backend_rows(t, backend_rows(gen, facts));
    return t;
}

io::Table latency_table(const Generation& gen, const ProcessFacts& facts) {
    io::Table t;
    t.name = "latency";
    t.source = "server";
    t.version = 1;
    t.meta = process_meta(gen, facts);
    t.meta["histogram"] = gen.config.metrics.histogram;
    t.columns = {{"backend", ColumnType::string}};
    for (int c = 1; c <= 5; ++c) t.columns.push_back({"responses_" + std::to_string(c) + "xx", ColumnType::unsigned_integer});
    t.columns.push_back({"count", ColumnType::unsigned_integer});
    t.columns.push_back({"sum_s", ColumnType::floating});
    for (double b : metrics::latency_bounds_seconds()) {
        t.columns.push_back({"le_" + metrics::format_value(b), ColumnType::unsigned_integer});
    }
    t.columns.push_back({"le_+Inf", ColumnType::unsigned_integer});
    std::vector<const metrics::LatencyHistogram*> hist;
    for (const auto& b : gen.backends) {
        const BackendState& st = *b;
        std::vector<nlohmann::json> row{st.config().key};
        for (int c = 1; c <= 5; ++c) {
            uint64_t v = 0;
            for (size_t w = 0; w < st.worker_count(); ++w) v += st.counters(w).responses[c].get();
            row.emplace_back(v);
        }
        hist.clear();
        for (size_t w = 0; w < st.worker_count(); ++w) hist.push_back(&st.counters(w).latency);
        const metrics::LatencyTotals totals = metrics::merge_latency(hist);
        row.emplace_back(totals.count());
        row.emplace_back(totals.sum_seconds());
        for (uint64_t c : totals.cumulative) row.emplace_back(c);
        t.rows.push_back(std::move(row));
    }
    return t;
}

// Every listener's routes in order, their per-worker counters summed (counted since this generation's start).
io::Table routes_table(const Generation& gen, const ProcessFacts& facts) {
    io::Table t;
    t.name = "routes";
    t.source = "server";
    t.version = 1;
    t.meta = process_meta(gen, facts);
    t.columns = {{"listener", ColumnType::string},       {"route", ColumnType::unsigned_integer},
                 {"host", ColumnType::string},           {"path_prefix", ColumnType::string},
                 {"service", ColumnType::string},        {"overflow", ColumnType::string},
                 {"hits", ColumnType::unsigned_integer}, {"overflows", ColumnType::unsigned_integer}};
    const auto& listeners = gen.server().listeners;
    for (size_t l = 0; l < listeners.size(); ++l) {
        const std::string where = format_ipv4(listeners[l].address) + ":" + std::to_string(listeners[l].port);
        for (size_t r = 0; r < listeners[l].routes.size(); ++r) {
            const RouteConfig& rc = listeners[l].routes[r];
            uint64_t hits = 0, overflows = 0;
            for (size_t w = 0; w < gen.route_workers; ++w) {
                const RouteCounters& c = gen.route_counter(w, l, r);
                hits += c.hits.get();
                overflows += c.overflows.get();
            }
            t.rows.push_back({where, r + 1, rc.host.empty() ? "-" : rc.host,
                              rc.path_prefix.empty() ? "-" : rc.path_prefix, rc.service,
                              rc.overflow.empty() ? "-" : rc.overflow, hits, overflows});
        }
    }
    return t;
}

io::Table status_table(const Generation& gen, std::span<const WorkerStats* const> workers, const ProcessFacts& facts) {
    io::Table t;
    t.name = "status";
    t.source = "server";
    t.version = 1;
    t.meta = process_meta(gen, facts);
    t.meta["pid"] = facts.pid;
    t.meta["instance"] = process_instance();
    t.meta["listeners"] = listeners_text(gen.server());
    t.meta["max_connections"] = gen.server().max_connections;
    t.meta["max_connections_per_ip"] = gen.server().limits.max_connections_per_ip;
    t.meta["tls_providers"] = active_providers();
    t.meta["config_file"] = gen.config.source;
    for (size_t r = 0; r < auth::kDropReasons; ++r) {
        t.meta[std::string("auth.sweep_dropped.") + auth::drop_name(static_cast<auth::Drop>(r))] =
            facts.sweep_auth_drops[r];
    }
    t.meta["config_loaded_unix"] = gen.loaded_unix;
    t.meta["config_reloads_refused"] = facts.reloads_refused;
    t.columns = {{"counter", ColumnType::string}, {"value", ColumnType::unsigned_integer}};
    for (auto& [name, value] : status_counters(workers)) t.rows.push_back({std::move(name), value});
    for (auto& [name, value] : qos_rows(gen)) t.rows.push_back({std::move(name), value});
    return t;
}

proto::NodeStatus node_status(const Generation& gen, std::span<const WorkerStats* const> workers,
                              const ProcessFacts& facts, int64_t unix_time) {
    proto::NodeStatus s;
    s.source = "dlba-server";
    s.server = "dlba-server";
    s.node = gen.node;
    s.time = unix_time;
    const Diagnosis d = diagnose(gen, facts.now_ms);
    s.healthy = d.healthy;
    s.reason = d.reason;
    for (auto& [name, value] : status_counters(workers)) s.counters[std::move(name)] = value;
    s.backends = backend_rows(gen, facts);
    return s;
}

io::Table node_status_table(const Generation& gen, std::span<const WorkerStats* const> workers,
                            const ProcessFacts& facts, int64_t unix_time) {
    return node_status(gen, workers, facts, unix_time).to_table();
}

std::string handle_monitor_request(std::string_view request, const Generation& gen,
                                   std::span<const WorkerStats* const> workers, const ProcessFacts& facts,
                                   const ReloadCommands* reload) {
    const proto::Parsed parsed = proto::parse(request, proto::Daemon::server);
    if (const auto* e = std::get_if<proto::ParseError>(&parsed)) return io::reply_error(e->message);
    const proto::Request& r = std::get<proto::Request>(parsed);
    switch (r.verb) {
        case Verb::backends: return backends_table(gen, facts).to_json().dump();
        case Verb::status: return status_table(gen, workers, facts).to_json().dump();
        case Verb::latency: return latency_table(gen, facts).to_json().dump();
        case Verb::routes: return routes_table(gen, facts).to_json().dump();
        case Verb::reload:
            if (reload) return reload->reload();
            break;
        case Verb::check_reload:
            if (reload) return reload->check_reload(r.path);
            break;
        case Verb::backend_admin:
        case Verb::backend_in_service:
        case Verb::backend_out_of_service:
        case Verb::backend_weight: {
            // The admin state lives in the BackendState, which the next reload carries over for this back end.
            BackendState* target = nullptr;
            for (const auto& b : gen.backends) {
                if (b->config().key == r.key) target = b.get();
            }
            if (!target) return io::reply_error("no back end with key '" + r.key + "'");
            if (r.verb == Verb::backend_weight) {
                target->set_weight(r.weight);
                return io::reply_ok("back end " + target->config().key + " weight is now " + std::to_string(r.weight));
            }
            target->set_admin(admin_of(proto::backend_mode_of(r)));
            return io::reply_ok("back end " + target->config().key + " is now " +
                                backend_admin_name(target->admin()) + " (" +
                                backend_status_name(target->status(facts.now_ms)) + ")");
        }
        default: break;  // not a server verb: parse() does not give it
    }
    return io::reply_error("unknown request '" + std::string(request) + "' (this server takes no reload requests)");
}

}  // namespace dlba::server
