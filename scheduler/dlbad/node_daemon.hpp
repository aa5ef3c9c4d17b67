// dlbad, the node daemon: one per node, beside the scheduler and the DLBA server.
//
//   * failover: heartbeats to every peer (UDP), ICMP probes of its own and the active scheduler's data plane, the
//     election rule (common/election.hpp), and acting on it through the local scheduler's control socket (role,
//     which node to sync the bucket table from);
//   * status daemon: answers the active scheduler's status sweep (TCP, one answer per connection) with this node's
//     figures, taken from the DLBA server's monitor socket (or, in the prototype, a local probe of the VIP);
//   * status sweep: while the local scheduler is active, visits every node one at a time, marks the ones that do
//     not answer after the retries failed (and live again when they answer), fills the server status table's
//     dynamic columns and the summary web-server status table;
//   * monitoring socket: failover, sweep and summary tables, read-only.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "election.hpp"
#include "heartbeat.hpp"
#include "icmp_probe.hpp"
#include "vip_arp.hpp"
#include "io/fd.hpp"
#include "io/table_format.hpp"
#include "io/unix_socket.hpp"

namespace dlba::dlbad {

struct DaemonOptions {
    uint16_t node = 0;
    std::string scheduler_socket;  // the local dlba-scheduler's control socket
    std::string server_socket;     // the local dlba-server's monitor socket (when the config has a server section)
    std::string monitor_socket;    // ours
    uint64_t config_id = 0;        // hash of the configuration file's bytes
    std::string config_path;       // the running configuration file (config push replaces it)
    uint64_t initial_term = 0;     // carried over a restart after a configuration push
};

struct SweepResult {
    bool answered = false;
    bool failed_by_sweep = false;  // we marked it failed and have not seen it answer since
    uint32_t attempts = 0;
    uint64_t last_answer_unix = 0;
    nlohmann::json figures;        // the node's answer (a node-status table) or null
    std::string last_error;
};

class NodeDaemon {
public:
    NodeDaemon(const Config& config, DaemonOptions options);
    ~NodeDaemon();

    bool start(std::string* err);
    // Returns when `stop` is set, or after a configuration push committed a new file: then restart_requested()
    // is true and the caller re-executes the daemon on the new file (sockets and timings may have changed).
    void run(const std::atomic<bool>& stop);
    bool restart_requested() const { return restart_.load(); }
    void request_restart() { restart_.store(true); }  // SIGHUP: start again on the file as it is now
    uint64_t term() const { return election_.term(); }

    // Tables served on the monitoring socket (and used by tests).
    io::Table failover_table();
    io::Table sweep_table();
    io::Table summary_table();

private:
    struct PeerInfo {
        hb::Message last;
        uint64_t last_ms = 0;
        bool seen = false;
    };

    void heartbeat_round(uint64_t now);
    void send_heartbeat(bool active, bool dataplane_ok);  // to every peer (caller holds mutex_)
    void receive_heartbeats(uint64_t now);
    void serve_status_request();
    std::string local_status_answer();
    void act(const Decision& d);
    void refresh_local_role();
    void update_local_polling(int timeout_ms);                       // caller holds mutex_
    void apply_local_counters(const std::optional<io::Table>& t);    // caller holds mutex_
    void note_polls(const io::Table& t);                              // caller holds mutex_
    void check_vip_arp();  // caller holds mutex_
    std::optional<uint16_t> node_of_sched_mac(const MacAddr& m) const;
    void event(const std::string& text);  // caller holds mutex_
    std::string role_active_request() const;
    std::optional<std::string> scheduler_request(const std::string& line);
    void sweep_loop(const std::atomic<bool>& stop);
    void sweep_once();
    std::string handle_monitor(std::string_view request);
    void config_loop(const std::atomic<bool>& stop);
    std::string config_request(int fd);
    void hand_over();

    const Config& config_;
    DaemonOptions opt_;
    const NodeConfig* self_;
    Election election_;
    io::Fd hb_fd_;
    io::Fd status_fd_;
    IcmpProber prober_;
    VipArpWatcher vip_arp_;
    io::ControlServer monitor_;

    std::mutex mutex_;  // guards everything below that the sweep thread or the monitor reads
    std::map<uint16_t, PeerInfo> peers_;
    bool local_active_ = false;
    bool local_dataplane_ok_ = false;
    uint32_t local_misses_ = 0;
    bool local_polling_ = false;   // the local scheduler's poll counter advanced since the previous role check
    uint64_t local_polls_ = 0;
    uint64_t local_version_ = 0;
    uint32_t yield_rounds_ = 0;    // heartbeats still to carry the "yielded" flag after a step-down
    uint64_t next_vip_arp_ms_ = 0;
    std::vector<MacAddr> vip_arp_macs_;  // who answered ARP for the VIP in the last completed round
    uint32_t vip_arp_rival_rounds_ = 0;   // consecutive rounds in which another MAC answered while we are active
    uint32_t vip_arp_mismatch_rounds_ = 0;  // consecutive rounds in which the answer was not the known active
    struct LogLimit {
        uint64_t last_ms = 0;
        uint64_t suppressed = 0;
    };
    std::mutex log_mutex_;                         // guards log_limits_ (the config thread logs too)
    std::map<std::string, LogLimit> log_limits_;  // scheduler request failures, by request verb
    std::optional<uint16_t> sync_source_;
    std::map<uint16_t, SweepResult> sweep_;
    uint64_t last_sweep_unix_ = 0;
    uint64_t sweeps_ = 0;
    std::vector<std::string> events_;  // the last few decisions, for operators

    std::atomic<bool> sweeping_active_{false};
    std::thread sweep_thread_;
    io::Fd config_fd_;
    std::thread config_thread_;
    std::string pending_id_;  // config thread only
    std::atomic<bool> restart_{false};
};

}  // namespace dlba::dlbad
