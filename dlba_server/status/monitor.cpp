#include "status/monitor.hpp"

#include <vector>

#include "io/words.hpp"

namespace dlba::server {

namespace {

using io::ColumnType;

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

}  // namespace

io::Table backends_table(const Generation& gen, const ProcessFacts& facts) {
    io::Table t;
    t.name = "backends";
    t.source = "server";
    t.version = 1;
    t.meta = {{"node", gen.node},
              {"workers", facts.workers},
              {"uptime_s", facts.uptime_s},
              {"config_generation", gen.number}};
    t.columns = {
        {"key", ColumnType::string},
        {"address", ColumnType::ipv4},
        {"port", ColumnType::unsigned_integer},
        {"state", ColumnType::string},
        {"weight", ColumnType::unsigned_integer},
        {"open_conns", ColumnType::unsigned_integer},
        {"hits", ColumnType::unsigned_integer},
        {"avg_resp_ms", ColumnType::floating},
        {"errors", ColumnType::unsigned_integer},
        {"connect_failures", ColumnType::unsigned_integer},
        {"pooled_reuses", ColumnType::unsigned_integer},
        {"cookie_groups", ColumnType::unsigned_integer},
        {"services", ColumnType::string},
    };
    for (size_t b = 0; b < gen.backends.size(); ++b) {
        const BackendState& st = *gen.backends[b];
        uint64_t hits = 0, errors = 0, connect_failures = 0, reuses = 0, groups = 0;
        for (size_t w = 0; w < st.worker_count(); ++w) {
            const BackendCounters& c = st.counters(w);
            hits += c.hits.get();
            errors += c.errors.get();
            connect_failures += c.connect_failures.get();
            reuses += c.pooled_reuses.get();
            groups += c.cookie_groups.get();
        }
        const double avg = st.average_ms();
        t.rows.push_back({st.config().key, format_ipv4(st.config().address), st.config().port,
                          backend_status_name(st.status(facts.now_ms)), st.weight(), st.active(), hits,
                          avg < 0 ? nlohmann::json(nullptr) : nlohmann::json(static_cast<double>(static_cast<int64_t>(avg * 1000)) / 1000),
                          errors, connect_failures, reuses, groups, services_of(gen, b)});
    }
    return t;
}

io::Table status_table(const Generation& gen, std::span<const WorkerStats* const> workers, const ProcessFacts& facts) {
    io::Table t;
    t.name = "status";
    t.source = "server";
    t.version = 1;
    t.meta = {{"node", gen.node},
              {"pid", facts.pid},
              {"workers", facts.workers},
              {"uptime_s", facts.uptime_s},
              {"listeners", listeners_text(gen.server())},
              {"max_connections", gen.server().max_connections},
              {"config_file", gen.config.source},
              {"config_generation", gen.number},
              {"config_loaded_unix", gen.loaded_unix},
              {"config_reloads_refused", facts.reloads_refused}};
    t.columns = {{"counter", ColumnType::string}, {"value", ColumnType::unsigned_integer}};
    const auto sum = [&](Counter WorkerStats::*field) {
        uint64_t v = 0;
        for (const WorkerStats* w : workers) v += (w->*field).get();
        return v;
    };
    const auto row = [&](const char* name, uint64_t v) { t.rows.push_back({name, v}); };
    row("connections_open", sum(&WorkerStats::connections_open));
    row("connections_accepted", sum(&WorkerStats::connections_accepted));
    row("connections_refused", sum(&WorkerStats::connections_refused));
    row("requests", sum(&WorkerStats::requests));
    for (int c = 1; c <= 5; ++c) {
        uint64_t v = 0;
        for (const WorkerStats* w : workers) v += w->responses[c].get();
        t.rows.push_back({"responses_" + std::to_string(c) + "xx", v});
    }
    row("local_errors", sum(&WorkerStats::local_errors));
    row("no_backend", sum(&WorkerStats::no_backend));
    row("retries", sum(&WorkerStats::retries));
    row("aborted", sum(&WorkerStats::aborted));
    row("header_timeouts", sum(&WorkerStats::header_timeouts));
    row("idle_timeouts", sum(&WorkerStats::idle_timeouts));
    row("bytes_in", sum(&WorkerStats::bytes_in));
    row("bytes_out", sum(&WorkerStats::bytes_out));
    row("tls_handshakes", sum(&WorkerStats::tls_handshakes));
    row("tls_resumed", sum(&WorkerStats::tls_resumed));
    row("tls_handshake_failures", sum(&WorkerStats::tls_handshake_failures));
    return t;
}

io::Table node_status_table(const Generation& gen, std::span<const WorkerStats* const> workers,
                            const ProcessFacts& facts, int64_t unix_time) {
    io::Table t = backends_table(gen, facts);
    t.name = "node-status";
    t.source = "dlba-server";
    t.meta = {{"node", gen.node}, {"time", unix_time}};
    for (const auto& row : status_table(gen, workers, facts).rows) t.meta[row[0].get<std::string>()] = row[1];
    t.meta["server"] = "dlba-server";
    t.meta["healthy"] = true;
    return t;
}

std::string handle_monitor_request(std::string_view request, const Generation& gen,
                                   std::span<const WorkerStats* const> workers, const ProcessFacts& facts,
                                   const ReloadCommands* reload) {
    const std::vector<std::string_view> w = io::split_words(request);
    if (w.size() == 1 && w[0] == "backends") return backends_table(gen, facts).to_json().dump();
    if (w.size() == 1 && w[0] == "status") return status_table(gen, workers, facts).to_json().dump();
    if (reload && !w.empty() && w[0] == "reload") {
        if (w.size() != 1) return io::reply_error("usage: reload");
        return reload->reload();
    }
    if (reload && !w.empty() && w[0] == "check-reload") {
        if (w.size() != 2) return io::reply_error("usage: check-reload PATH");
        return reload->check_reload(std::string(w[1]));
    }
    if (!w.empty() && w[0] == "backend") {
        if (w.size() != 3) return io::reply_error("usage: backend KEY enable|disable|drain");
        // The admin state lives in the BackendState, which the next reload carries over for this back end.
        BackendState* target = nullptr;
        for (const auto& b : gen.backends) {
            if (b->config().key == w[1]) target = b.get();
        }
        if (!target) return io::reply_error("no back end with key '" + std::string(w[1]) + "'");
        if (w[2] == "enable") {
            target->set_admin(BackendAdmin::enabled);
        } else if (w[2] == "disable") {
            target->set_admin(BackendAdmin::disabled);
        } else if (w[2] == "drain") {
            target->set_admin(BackendAdmin::drain);
        } else {
            return io::reply_error("unknown back-end action '" + std::string(w[2]) + "' (enable, disable, drain)");
        }
        return io::reply_ok("back end " + target->config().key + " is now " +
                            backend_status_name(target->status(facts.now_ms)));
    }
    return io::reply_error("unknown request '" + std::string(request) +
                           "' (backends | status | backend KEY enable|disable|drain" +
                           (reload ? " | reload | check-reload PATH)" : ")"));
}

}  // namespace dlba::server
