// The link from dlbad to the daemons on its own node: the local dlba-scheduler's control socket and the local
// dlba-server's monitor socket. Every request dlbad sends them is one typed method here, so the command lines are
// built in one place (local_link.cpp) and the jobs (failover loop, status sweep, config port) can be tested against
// a fake link.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/node_status.hpp"
#include "protocol/request.hpp"
#include "time_source.hpp"

namespace dlba::dlbad {

enum class LinkResult : uint8_t {
    ok,         // the daemon answered and applied it
    refused,    // the daemon answered with an error (or an answer that is not a dlba-reply)
    no_answer,  // the daemon could not be asked (not running, timed out)
};

struct LinkReply {
    LinkResult result = LinkResult::no_answer;
    std::string answer;  // the daemon's answer as it came, when it answered
    std::string error;   // when not ok: the daemon's reason, "unreadable answer", or why it could not be asked

    bool answered() const { return result != LinkResult::no_answer; }
    bool ok() const { return result == LinkResult::ok; }
};

// What the status sweep tells the scheduler about one node: the server status table's dynamic columns.
using NodeFigures = proto::NodeFigures;

// The local scheduler's counters table, as the failover loop uses it.
struct LocalCounters {
    bool active = false;           // its role
    uint64_t table_version = 0;    // its bucket-table version
    std::optional<uint64_t> polls;  // its data-plane poll counter, when the table has one
};

struct CountersReading {
    std::optional<LocalCounters> counters;  // none when it did not answer or the answer was unreadable
    bool nobody_listens = false;            // the connect itself was refused: the scheduler is gone
};

class LocalLink {
public:
    virtual ~LocalLink() = default;

    // ---- the local scheduler; a request it cannot take is logged, the same failure once per 10 s ----
    virtual LinkReply set_role_active(uint32_t lease_ms) = 0;  // also sends a fresh burst of gratuitous ARPs
    virtual LinkReply set_standby() = 0;
    virtual LinkReply renew() = 0;                              // the active role's lease
    virtual LinkReply sync_from(std::optional<uint16_t> node) = 0;  // none: stop syncing the bucket table
    virtual LinkReply node_failed(uint16_t node, bool failed) = 0;  // the sweep's verdict (fail / live)
    virtual LinkReply node_stats(uint16_t node, const std::optional<NodeFigures>& figures) = 0;  // none: unknown
    virtual LinkReply sweep_done(uint64_t unix_s) = 0;
    // The active's load-steering verdict for one node, with its load (none: not known).
    virtual LinkReply node_load(uint16_t node, std::optional<uint32_t> load_pct, bool steered) = 0;
    // The failed flag of every node in the scheduler's server status table (empty when it did not answer).
    virtual std::map<uint16_t, bool> status() = 0;
    virtual LinkReply check_reload(const std::string& path) = 0;
    virtual LinkReply reload() = 0;
    // Read often and quickly (not logged): role, table version and poll counter.
    virtual CountersReading counters(int timeout_ms) = 0;

    // ---- the local DLBA server (not logged) ----
    virtual bool has_server_socket() const = 0;
    virtual LinkReply server_check_reload(const std::string& path) = 0;
    virtual LinkReply server_reload() = 0;
    virtual LinkReply server_status() = 0;  // its status table (the load meter reads connections_open)

    // ---- dlbactl's SHOW and ADMIN requests, passed on as they came (not logged) ----
    virtual LinkReply pass_to_scheduler(std::string_view line) = 0;
    virtual LinkReply pass_to_server(std::string_view line) = 0;
};

// One line per kind of failure and period: while the local scheduler is down the same request fails every round.
class RepeatLimit {
public:
    explicit RepeatLimit(uint64_t period_ms) : period_ms_(period_ms) {}
    // True when a failure under `key` is to be reported now; then *suppressed is how many were not since the last.
    bool report(const std::string& key, uint64_t now_ms, uint64_t* suppressed);

private:
    struct Seen {
        uint64_t last_ms = 0;
        uint64_t suppressed = 0;
    };
    uint64_t period_ms_;
    std::map<std::string, Seen> seen_;
};

// The link over the two unix sockets. Used by several threads at once: each request is its own connection, and
// the log limit has its own lock.
class SocketLink final : public LocalLink {
public:
    SocketLink(uint16_t node, std::string scheduler_socket, std::string server_socket, const TimeSource& time);

    LinkReply set_role_active(uint32_t lease_ms) override;
    LinkReply set_standby() override;
    LinkReply renew() override;
    LinkReply sync_from(std::optional<uint16_t> node) override;
    LinkReply node_failed(uint16_t node, bool failed) override;
    LinkReply node_stats(uint16_t node, const std::optional<NodeFigures>& figures) override;
    LinkReply sweep_done(uint64_t unix_s) override;
    LinkReply node_load(uint16_t node, std::optional<uint32_t> load_pct, bool steered) override;
    std::map<uint16_t, bool> status() override;
    LinkReply check_reload(const std::string& path) override;
    LinkReply reload() override;
    CountersReading counters(int timeout_ms) override;

    bool has_server_socket() const override { return !server_socket_.empty(); }
    LinkReply server_check_reload(const std::string& path) override;
    LinkReply server_reload() override;
    LinkReply server_status() override;

    LinkReply pass_to_scheduler(std::string_view line) override;
    LinkReply pass_to_server(std::string_view line) override;

private:
    LinkReply scheduler_request(const proto::Request& request);  // logged, limited

    uint16_t node_;
    std::string scheduler_socket_;
    std::string server_socket_;
    const TimeSource& time_;
    std::mutex log_mutex_;  // guards log_limit_
    RepeatLimit log_limit_;
};

}  // namespace dlba::dlbad
