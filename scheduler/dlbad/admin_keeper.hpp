// The operator's admin state on this node, kept by dlbad so that it lasts (seed 002's in-service / out-of-service):
// every admin-state request (back end in/out of service and weight, node drain and weight) reaches dlbad first
// (its monitor socket, or the config port for dlbactl --all-nodes), is checked against the configuration, passed to
// the process that applies it (the local DLBA server or scheduler), recorded, and saved in the admin state file
// (failover.admin_state_file): temp file, fsync, rename, fsync of the directory.
//
// Its thread watches the local server and scheduler (their status tables' "instance", and the server's
// configuration generation) and replays the whole state to a process it has not replayed to yet: a restarted
// server or scheduler, a server that reloaded, and both when dlbad itself starts. So a restart of any process, or
// of the whole node, keeps what the operator set.
//
// At start the file is read whole into a temporary: a file that does not parse is refused with a log line, set
// aside as FILE.refused, and nothing of it applies (the configuration's values stand). Settings for back ends or
// nodes the configuration no longer has (a pushed file removed them) are dropped and the file rewritten.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "config/config.hpp"
#include "local_link.hpp"
#include "protocol/admin_state.hpp"

namespace dlba::dlbad {

// "%n" in the configured path stands for the node number.
std::string admin_state_path(const std::string& configured, uint16_t node);

// Writes `bytes` so that a reader (or a crash) sees the old file or the new one: temp file, fsync, rename, fsync of
// the directory.
bool write_file_durably(const std::string& path, const std::string& bytes, std::string* err);

class AdminKeeper {
public:
    AdminKeeper(const Config& config, uint16_t node, std::string path, LocalLink& link);
    ~AdminKeeper();

    // Reads the file (see above). Returns what the log says about it.
    std::string load();
    // An admin-state request (proto::is_admin_state): the JSON reply for dlbactl.
    std::string apply(const proto::Request& r);
    // One look at the local server and scheduler, replaying to a new one. The thread calls it every 250 ms.
    void watch_once();

    void start();
    void request_stop();
    void join();

    proto::AdminState state() const;
    // Whether the operator took a node out of new buckets here (drain, disable or weight 0): any thread.
    bool node_out_of_service(uint16_t node) const;
    const std::string& path() const { return path_; }

private:
    std::string check(const proto::Request& r) const;  // why the configuration does not allow it, "" if it does
    bool save(const proto::AdminState& s, std::string* err);
    void log(const std::string& text) const;

    const Config& config_;
    const uint16_t node_;
    const std::string path_;
    LocalLink& link_;

    mutable std::mutex mutex_;  // guards state_ and the file; held while a request is passed on, so the file and
                                // the daemons see the requests in one order
    proto::AdminState state_;
    std::string server_seen_;     // the server instance (and generation) last replayed to; "" none
    std::string scheduler_seen_;  // likewise the scheduler's

    std::atomic<bool> stop_{false};
    std::mutex wake_mutex_;
    std::condition_variable wake_;
    std::thread thread_;
};

}  // namespace dlba::dlbad
