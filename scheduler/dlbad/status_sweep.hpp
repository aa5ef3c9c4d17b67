// The status sweep: while the local scheduler is active, visits every node one at a time (its status daemon, or
// the DLBA server answering in its place), marks the ones that do not answer after the retries failed (and live
// again when they answer), and gives the scheduler the server status table's dynamic columns. Its results fill the
// monitor's sweep and summary tables.
//
// It owns its thread and its results. The failover loop tells it whether to run (set_active); the nodes are
// reached through a StatusFetcher and the scheduler through the LocalLink, so the retries are tested with fakes.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/array_config.hpp"
#include "local_link.hpp"
#include "peer_auth.hpp"
#include "time_source.hpp"

namespace dlba::dlbad {

// What a node answered: its node-status table, read once (protocol/node_status.hpp), and the figures the
// scheduler's status table gets from it.
struct SweepAnswer {
    proto::NodeStatus status;
    std::optional<NodeFigures> totals;  // proto::summarise(status); none when it lists no back end
};

// The one reader of a node's answer to the sweep; nullopt when it is not a node-status table.
std::optional<SweepAnswer> parse_sweep_answer(const std::string& text);

struct SweepResult {
    bool answered = false;
    bool failed_by_sweep = false;  // we marked it failed and have not seen it answer since
    uint32_t attempts = 0;
    uint64_t last_answer_unix = 0;
    std::optional<SweepAnswer> answer;  // the last sweep's answer, none when it did not answer
    std::string last_error;
};

struct SweepSnapshot {
    bool sweeping = false;
    uint64_t last_sweep_unix = 0;
    uint64_t sweeps = 0;
    std::map<uint16_t, SweepResult> results;  // the nodes visited so far
};

// Asks one node's status daemon; the answer is everything it wrote before closing ("" when it closed at once).
class StatusFetcher {
public:
    virtual ~StatusFetcher() = default;
    virtual std::optional<std::string> fetch(const NodeConfig& node, int timeout_ms, std::string* err) = 0;
};

class TcpStatusFetcher final : public StatusFetcher {
public:
    // The request is sealed by auth.signer and the answer checked by auth.sweep_answers (bound to the request).
    TcpStatusFetcher(uint16_t status_port, PeerAuth& auth) : port_(status_port), auth_(auth) {}
    std::optional<std::string> fetch(const NodeConfig& node, int timeout_ms, std::string* err) override;

private:
    uint16_t port_;
    PeerAuth& auth_;
};

class StatusSweep {
public:
    StatusSweep(const ArrayConfig& config, uint16_t node, LocalLink& link, StatusFetcher& fetcher,
                const TimeSource& time);
    ~StatusSweep();  // stops and joins the thread

    void start();         // the thread: a sweep, then failover.sweep_delay_ms, while active
    void request_stop();  // the thread ends after the sweep in progress
    void join();
    void set_active(bool active) { active_.store(active, std::memory_order_relaxed); }  // any thread

    void sweep_once();  // one visit of every node (the thread's step, public for the tests)
    SweepSnapshot snapshot() const;  // any thread

private:
    void loop();
    SweepResult visit(const NodeConfig& n, SweepResult r, bool failed_now);

    const ArrayConfig& config_;
    const uint16_t node_;
    LocalLink& link_;
    StatusFetcher& fetcher_;
    const TimeSource& time_;
    std::atomic<bool> active_{false};
    std::atomic<bool> stop_{false};
    std::thread thread_;

    mutable std::mutex results_mutex_;  // guards the three below: the sweep thread writes, the monitor reads
    std::map<uint16_t, SweepResult> results_;
    uint64_t last_sweep_unix_ = 0;
    uint64_t sweeps_ = 0;
};

}  // namespace dlba::dlbad
