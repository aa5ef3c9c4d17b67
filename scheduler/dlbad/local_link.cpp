#include "local_link.hpp"

#include <cerrno>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "io/table_format.hpp"
#include "io/unix_socket.hpp"
#include "protocol/builders.hpp"
#include "protocol/reply.hpp"
#include "protocol/request.hpp"

namespace dlba::dlbad {

namespace {

constexpr int kSchedulerTimeoutMs = 1000;  // the failover loop waits for these: keep it short
constexpr int kPassThroughTimeoutMs = 5000;
constexpr int kServerCheckTimeoutMs = 5000;  // the server opens the new file's TLS files
constexpr int kServerReloadTimeoutMs = 2000;
constexpr int kServerStatusTimeoutMs = 1000;
constexpr uint64_t kLogRepeatMs = 10000;  // the same scheduler request failure is logged once per this

// What a daemon's answer says (protocol/reply.hpp): its dlba-reply's ok or error, a table as served; anything else
// is refused as unreadable.
LinkReply reply_of(std::optional<std::string> answer, std::string err) {
    LinkReply r;
    if (!answer) {
        r.error = std::move(err);
        return r;
    }
    const io::Reply reply = proto::read_reply(answer);
    r.answer = std::move(*answer);
    r.result = reply.ok ? LinkResult::ok : LinkResult::refused;
    if (!reply.ok) r.error = reply.text.empty() ? std::string("refused") : reply.text;
    return r;
}

LinkReply ask(const std::string& socket, std::string_view line, int timeout_ms) {
    std::string err;
    auto answer = io::request(socket, line, timeout_ms, &err);
    return reply_of(std::move(answer), std::move(err));
}

LinkReply ask(const std::string& socket, const proto::Request& request, int timeout_ms) {
    return ask(socket, proto::format(request), timeout_ms);
}

std::optional<io::Table> table_of(const std::string& text) {
    const auto doc = nlohmann::json::parse(text, nullptr, false);
    std::string err;
    return doc.is_discarded() ? std::nullopt : io::Table::from_json(doc, &err);
}

// A cell by column name, or null.
nlohmann::json cell(const io::Table& t, const std::vector<nlohmann::json>& row, const char* name) {
    for (size_t i = 0; i < t.columns.size() && i < row.size(); ++i) {
        if (t.columns[i].name == name) return row[i];
    }
    return nullptr;
}

}  // namespace

bool RepeatLimit::report(const std::string& key, uint64_t now_ms, uint64_t* suppressed) {
    Seen& s = seen_[key];
    if (s.last_ms != 0 && now_ms - s.last_ms < period_ms_) {
        ++s.suppressed;
        return false;
    }
    *suppressed = s.suppressed;
    s.last_ms = now_ms;
    s.suppressed = 0;
    return true;
}

SocketLink::SocketLink(uint16_t node, std::string scheduler_socket, std::string server_socket,
                       const TimeSource& time)
    : node_(node), scheduler_socket_(std::move(scheduler_socket)), server_socket_(std::move(server_socket)),
      time_(time), log_limit_(kLogRepeatMs) {}

LinkReply SocketLink::scheduler_request(const proto::Request& request) {
    const std::string line = proto::format(request);
    LinkReply r = ask(scheduler_socket_, line, kSchedulerTimeoutMs);
    if (r.answered()) return r;
    const std::string verb = line.substr(0, line.find(' '));
    uint64_t suppressed = 0;
    bool report = false;
    {
        std::lock_guard<std::mutex> lock(log_mutex_);
        report = log_limit_.report(verb + ": " + r.error, time_.monotonic_ms(), &suppressed);
    }
    if (report && suppressed > 0) {
        std::fprintf(stderr, "<4>dlbad[node %u]: scheduler: %s: %s (%llu more since the last report)\n", node_,
                     line.c_str(), r.error.c_str(), static_cast<unsigned long long>(suppressed));
    } else if (report) {
        std::fprintf(stderr, "<4>dlbad[node %u]: scheduler: %s: %s\n", node_, line.c_str(), r.error.c_str());
    }
    return r;
}

LinkReply SocketLink::set_role_active(uint32_t lease_ms) { return scheduler_request(proto::role_active(lease_ms)); }

LinkReply SocketLink::set_standby() { return scheduler_request(proto::role_standby()); }

LinkReply SocketLink::renew() { return scheduler_request(proto::renew()); }

LinkReply SocketLink::sync_from(std::optional<uint16_t> node) {
    return scheduler_request(node ? proto::sync_from(*node) : proto::sync_stop());
}

LinkReply SocketLink::node_failed(uint16_t node, bool failed) {
    return scheduler_request(proto::node_failed(node, failed));
}

LinkReply SocketLink::node_stats(uint16_t node, const std::optional<NodeFigures>& figures) {
    return scheduler_request(proto::node_stats(node, figures.value_or(NodeFigures{})));
}

LinkReply SocketLink::node_load(uint16_t node, std::optional<uint32_t> load_pct, bool steered) {
    return scheduler_request(proto::node_load(node, load_pct, steered));
}

LinkReply SocketLink::server_status() { return ask(server_socket_, proto::status(), kServerStatusTimeoutMs); }

LinkReply SocketLink::sweep_done(uint64_t unix_s) { return scheduler_request(proto::sweep_done(unix_s)); }

std::map<uint16_t, bool> SocketLink::status() {
    std::map<uint16_t, bool> failed;
    const LinkReply r = scheduler_request(proto::status());
    if (!r.answered()) return failed;
    if (const auto t = table_of(r.answer)) {
        for (const auto& row : t->rows) {
            const auto node = cell(*t, row, "node");
            const auto f = cell(*t, row, "failed");
            if (node.is_number() && f.is_boolean()) failed[node.get<uint16_t>()] = f.get<bool>();
        }
    }
    return failed;
}

LinkReply SocketLink::check_reload(const std::string& path) { return scheduler_request(proto::check_reload(path)); }

LinkReply SocketLink::reload() { return scheduler_request(proto::reload()); }

CountersReading SocketLink::counters(int timeout_ms) {
    // The counters table carries the role and the table version in its meta, and the poll loop's counter.
    std::string err;
    int connect_errno = 0;
    const auto answer = io::request(scheduler_socket_, proto::format(proto::counters()), timeout_ms, &err, &connect_errno);
    CountersReading reading;
    reading.nobody_listens = !answer && (connect_errno == ECONNREFUSED || connect_errno == ENOENT);
    const auto t = answer ? table_of(*answer) : std::nullopt;
    if (!t) return reading;
    LocalCounters c;
    c.table_version = t->version;
    const auto role = t->meta.find("role");
    c.active = role != t->meta.end() && role->is_string() && role->get<std::string>() == "active";
    for (const auto& row : t->rows) {
        if (row.size() == 2 && row[0] == "polls" && row[1].is_number_unsigned()) c.polls = row[1].get<uint64_t>();
    }
    reading.counters = c;
    return reading;
}

LinkReply SocketLink::server_check_reload(const std::string& path) {
    return ask(server_socket_, proto::check_reload(path), kServerCheckTimeoutMs);
}

LinkReply SocketLink::server_reload() { return ask(server_socket_, proto::reload(), kServerReloadTimeoutMs); }

LinkReply SocketLink::pass_to_scheduler(std::string_view line) {
    return ask(scheduler_socket_, line, kPassThroughTimeoutMs);
}

LinkReply SocketLink::pass_to_server(std::string_view line) { return ask(server_socket_, line, kPassThroughTimeoutMs); }

}  // namespace dlba::dlbad
