// The monitoring socket's tables, read-only: failover (the failover loop's view of the array), sweep (the status
// sweep's last visit of every node) and summary (the summary web-server status table: every back end's figures
// added up over the nodes). Built from the jobs' published snapshots, so reading them never holds up a job.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "config/array_config.hpp"
#include "node_daemon.hpp"
#include "peer_auth.hpp"
#include "status_sweep.hpp"
#include "time_source.hpp"
#include "io/table_format.hpp"
#include "io/unix_socket.hpp"

namespace dlba::dlbad {

io::Table failover_table(const ArrayConfig& config, const FailoverSnapshot& s, uint64_t now_ms);
io::Table sweep_table(const ArrayConfig& config, uint16_t node, const SweepSnapshot& s);
io::Table summary_table(uint16_t node, const SweepSnapshot& s);

class MonitorTables {
public:
    using FailoverSource = std::function<FailoverSnapshot()>;
    using SweepSource = std::function<SweepSnapshot()>;

    MonitorTables(const ArrayConfig& config, uint16_t node, FailoverSource failover, SweepSource sweep,
                  const TimeSource& time);
    // The answer to "failover" (or "status"), "sweep" or "summary"; anything else gets a dlba-reply error.
    std::string answer(std::string_view request) const;  // any thread
    // The failover table then carries the peer-authentication facts (keys, drops by reason, the last drop).
    void show_auth(const PeerAuth* auth) { auth_ = auth; }

private:
    const PeerAuth* auth_ = nullptr;
    const ArrayConfig& config_;
    const uint16_t node_;
    FailoverSource failover_;
    SweepSource sweep_;
    const TimeSource& time_;
};

// The monitoring socket, served on its own thread.
class MonitorSocket {
public:
    using Handler = std::function<std::string(std::string_view request)>;
    MonitorSocket(std::string path, const MonitorTables& tables)
        : server_(std::move(path)), handler_([&tables](std::string_view r) { return tables.answer(r); }) {}
    // Tables and more (dlbad's admin-state requests).
    MonitorSocket(std::string path, Handler handler) : server_(std::move(path)), handler_(std::move(handler)) {}
    ~MonitorSocket();

    bool open(std::string* err) { return server_.start(err); }
    void start();
    void request_stop() { stop_.store(true); }
    void join();

private:
    io::ControlServer server_;
    Handler handler_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace dlba::dlbad
