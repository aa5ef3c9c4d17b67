#include "ctl/top.hpp"

#include <chrono>
#include <ostream>
#include <thread>

#include "ctl/ctl_output.hpp"
#include "io/unix_socket.hpp"

namespace dlba::ctl {

namespace {

using io::ColumnType;
using nlohmann::json;

std::optional<size_t> column(const io::Table& t, std::string_view name) {
    for (size_t c = 0; c < t.columns.size(); ++c)
        if (t.columns[c].name == name) return c;
    return std::nullopt;
}

json cell(const io::Table& t, const std::vector<json>& row, std::string_view name) {
    const auto c = column(t, name);
    return c && *c < row.size() ? row[*c] : json();
}

// The row of `t` whose `key` column equals `id`.
const std::vector<json>* find_row(const io::Table& t, std::string_view key, const json& id) {
    const auto c = column(t, key);
    if (!c) return nullptr;
    for (const auto& row : t.rows)
        if (*c < row.size() && row[*c] == id) return &row;
    return nullptr;
}

// (after - before) / seconds for a counter; null when either is unknown, or when it went down (a restart).
json rate(const json& before, const json& after, double seconds) {
    const auto count = [](const json& v) { return v.is_number_integer() && v.get<int64_t>() >= 0; };
    if (!count(before) || !count(after)) return nullptr;
    const uint64_t b = before.get<uint64_t>(), a = after.get<uint64_t>();
    if (a < b) return nullptr;
    return static_cast<double>(a - b) / seconds;
}

io::Table rates(const io::Table& before, const io::Table& after, double seconds, const char* name, const char* key,
                std::initializer_list<std::pair<const char*, const char*>> counters,
                std::initializer_list<const char*> kept) {
    io::Table t;
    t.name = name;
    t.source = after.source;
    t.version = after.version;
    t.meta = {{"interval_s", seconds}};
    for (const char* m : {"node", "role"}) {
        if (after.meta.contains(m)) t.meta[m] = after.meta[m];
    }
    const auto key_col = column(after, key);
    if (key_col) t.columns.push_back(after.columns[*key_col]);
    for (const char* k : kept) {
        if (const auto c = column(after, k); c && std::string_view(k) == "state") t.columns.push_back(after.columns[*c]);
    }
    for (const auto& [from, to] : counters) t.columns.push_back({to, ColumnType::floating});
    for (const char* k : kept) {
        if (const auto c = column(after, k); c && std::string_view(k) != "state") t.columns.push_back(after.columns[*c]);
    }
    if (!key_col) return t;
    for (const auto& row : after.rows) {
        const std::vector<json>* old = find_row(before, key, row[*key_col]);
        std::vector<json> out{row[*key_col]};
        for (const char* k : kept)
            if (std::string_view(k) == "state" && column(after, k)) out.push_back(cell(after, row, k));
        for (const auto& [from, to] : counters) {
            out.push_back(old ? rate(cell(before, *old, from), cell(after, row, from), seconds) : json());
        }
        for (const char* k : kept)
            if (std::string_view(k) != "state" && column(after, k)) out.push_back(cell(after, row, k));
        t.rows.push_back(std::move(out));
    }
    return t;
}

std::optional<io::Table> fetch(const std::string& socket, const char* request, int timeout_ms, std::string* err) {
    const auto answer = io::request(socket, request, timeout_ms, err);
    if (!answer) return std::nullopt;
    const auto doc = json::parse(*answer, nullptr, false);
    if (doc.is_discarded()) {
        *err = socket + ": the answer is not JSON";
        return std::nullopt;
    }
    return io::Table::from_json(doc, err);
}

struct Sample {
    std::chrono::steady_clock::time_point at;
    std::optional<io::Table> nodes, backends;
};

Sample sample(const Invocation& inv, std::ostream& err) {
    Sample s;
    std::string why;
    s.at = std::chrono::steady_clock::now();
    s.nodes = fetch(inv.socket_path, "status", inv.timeout_ms, &why);
    if (!s.nodes) err << "dlbactl: top: scheduler: " << why << "\n";
    why.clear();
    s.backends = fetch(inv.server_socket, "backends", inv.timeout_ms, &why);
    if (!s.backends) err << "dlbactl: top: server: " << why << "\n";
    return s;
}

}  // namespace

io::Table node_rates(const io::Table& before, const io::Table& after, double seconds) {
    return rates(before, after, seconds, "rates-nodes", "node",
                 {{"packets", "packets/s"}, {"bytes", "bytes/s"}, {"hits", "hits/s"}},
                 {"state", "buckets", "open_conns", "avg_resp_ms"});
}

io::Table backend_rates(const io::Table& before, const io::Table& after, double seconds) {
    return rates(before, after, seconds, "rates-backends", "key", {{"hits", "requests/s"}, {"errors", "errors/s"}},
                 {"state", "open_conns", "avg_resp_ms"});
}

int run_top(const Invocation& inv, std::ostream& out, std::ostream& err) {
    Sample prev = sample(inv, err);
    if (!prev.nodes && !prev.backends) return kExitUnreachable;
    int code = kExitOk;
    for (int round = 0; round < inv.top_count; ++round) {
        std::this_thread::sleep_for(std::chrono::milliseconds(inv.top_interval_ms));
        Sample now = sample(inv, err);
        const double seconds = std::chrono::duration<double>(now.at - prev.at).count();
        if (round > 0 && !inv.json) out << "\n";
        if (prev.nodes && now.nodes) {
            code = std::max(code, print_answer(node_rates(*prev.nodes, *now.nodes, seconds).to_json().dump(),
                                               inv.json, out, err));
        }
        if (prev.backends && now.backends) {
            if (!inv.json && prev.nodes && now.nodes) out << "\n";
            code = std::max(code, print_answer(backend_rates(*prev.backends, *now.backends, seconds).to_json().dump(),
                                               inv.json, out, err));
        }
        if (!now.nodes && !now.backends) code = kExitUnreachable;
        out.flush();
        prev = std::move(now);
    }
    return code;
}

}  // namespace dlba::ctl
