// The node daemon's main job, the failover loop: heartbeats to every peer, ICMP probes of its own and the active
// scheduler's data plane, the election rule (common/election.hpp), and acting on it through the local scheduler
// (role and its lease, which node to sync the bucket table from); the VIP's ARP answer checked against the
// heartbeat view; the hand-over on a graceful stop.
//
// It runs on the daemon's main thread and owns all of its state. Others see it through snapshot() (the monitor
// tables) and the role listener (the status sweep runs while the local scheduler is active). Time and the network
// are injected, so an election round is tested with a fake clock, fake peers and a fake scheduler link.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/array_config.hpp"
#include "election.hpp"
#include "failover_net.hpp"
#include "heartbeat.hpp"
#include "local_link.hpp"
#include "net_types.hpp"
#include "time_source.hpp"

namespace dlba::dlbad {

struct PeerView {
    hb::Message last;      // its last heartbeat
    uint64_t last_ms = 0;  // when it came (monotonic)
};

// What the failover loop last published, for the monitor's failover table.
struct FailoverSnapshot {
    uint16_t node = 0;
    uint64_t config_id = 0;
    bool active = false;  // the election's view of this node's role
    uint64_t term = 0;
    std::optional<uint16_t> known_active;
    std::optional<uint16_t> sync_from;
    bool local_dataplane_ok = false;
    uint64_t local_version = 0;
    std::vector<MacAddr> vip_arp;      // who answered ARP for the VIP in the last completed round
    std::vector<std::string> events;   // the last few decisions, for operators
    std::map<uint16_t, PeerView> peers;  // the peers heard from
    std::vector<uint16_t> unverified;    // peers whose heartbeats do not verify with our keys (lately)
    bool isolated = false;               // most peers' heartbeats do not verify: our key is likely the wrong one
    uint64_t takeovers = 0;              // times this daemon made its scheduler the active one
    std::optional<uint32_t> own_load;    // this node's load as sent in its heartbeats (none: not known)
    std::vector<uint16_t> steered;       // load steering: the nodes steered away by our last decision (active only)
    uint64_t heartbeats_refused = 0;     // authenticated heartbeats of another format or malformed
};

// The node whose scheduler port has MAC `m`, if any (who answers ARP for the VIP).
std::optional<uint16_t> node_of_sched_mac(const ArrayConfig& config, const MacAddr& m);

struct FailoverIdentity {
    uint16_t node = 0;
    uint64_t config_id = 0;     // hash of the configuration file's bytes, carried in every heartbeat
    uint64_t initial_term = 0;  // carried over a restart after a configuration push
};

class FailoverLoop {
public:
    using RoleListener = std::function<void(bool local_active)>;

    // `config` must name identity.node; everything passed must outlive the loop.
    FailoverLoop(const ArrayConfig& config, FailoverIdentity identity, FailoverNet& net, LocalLink& link,
                 const TimeSource& time, RoleListener on_role);

    // Rounds every heartbeat interval and a role check every 500 ms until stopping() says so.
    void run(const std::function<bool()>& stopping);

    // The steps run() takes, public for the tests.
    void refresh_local_role();  // the local scheduler's role, table version and poll counter
    void on_heartbeat(const hb::Message& m, uint32_t from_ip, uint64_t now);
    void round(uint64_t now);
    // A graceful stop of the active scheduler's daemon hands the VIP over at once instead of waiting for the
    // failure detector: the scheduler turns standby and the peers see a heartbeat without the active flag.
    void hand_over();

    FailoverSnapshot snapshot() const;  // any thread

    // Load steering (failover.load): where this node's load comes from, and whether a node is out of the eligible
    // set (failed by the sweep, or taken out by the operator). Set
    // before run(); without them the heartbeat says "not known" and every node counts as live.
    using LoadSource = std::function<std::optional<uint32_t>()>;
    using NodeFailed = std::function<bool(uint16_t node)>;
    void set_load_inputs(LoadSource load, NodeFailed failed) {
        load_source_ = std::move(load);
        node_failed_ = std::move(failed);
    }
    // The active's decision (load_steering_round.cpp): twice a second, each node's load and verdict to the local
    // scheduler. Public for the tests.
    void steer_round(uint64_t now);

private:
    void act(const Decision& d);
    std::optional<uint32_t> own_load() const { return load_source_ ? load_source_() : std::nullopt; }
    void send_heartbeat(bool active, bool dataplane_ok);
    void update_local_polling(int timeout_ms);
    void forget_sync_source();  // the local scheduler is gone: name the active to the next one
    void apply_local_counters(const std::optional<LocalCounters>& c);
    void note_polls(const LocalCounters& c);
    void set_local_active(bool active);
    void check_vip_arp();
    void check_unverified(uint64_t now);
    std::string describe_mac(const MacAddr& m) const;
    uint32_t lease_ms() const;
    void event(const std::string& text);
    void publish();

    const ArrayConfig& config_;
    const FailoverIdentity id_;
    const NodeConfig& self_;
    FailoverNet& net_;
    LocalLink& link_;
    const TimeSource& time_;
    RoleListener on_role_;

    Election election_;
    std::map<uint16_t, PeerView> peers_;
    bool local_active_ = false;       // the local scheduler's role as last read or set
    bool local_dataplane_ok_ = false;
    uint32_t local_misses_ = 0;
    bool local_polling_ = false;      // the local scheduler's poll counter advanced since the previous look
    uint64_t local_polls_ = 0;
    uint64_t local_version_ = 0;
    uint32_t yield_rounds_ = 0;       // heartbeats still to carry the "yielded" flag after a step-down
    uint64_t next_vip_arp_ms_ = 0;
    std::vector<MacAddr> vip_arp_macs_;   // who answered ARP for the VIP in the last completed round
    uint32_t vip_arp_rival_rounds_ = 0;   // consecutive rounds in which another MAC answered while we are active
    uint32_t vip_arp_mismatch_rounds_ = 0;  // consecutive rounds in which the answer was not the known active
    std::optional<uint16_t> sync_source_;
    std::vector<std::string> events_;
    std::vector<uint16_t> unverified_;  // as of the last round
    bool isolated_ = false;
    uint64_t takeovers_ = 0;
    LoadSource load_source_;
    NodeFailed node_failed_;
    std::vector<uint16_t> steered_;  // as last decided
    uint64_t next_steer_ms_ = 0;

    mutable std::mutex published_mutex_;  // guards published_ only: the loop writes it, readers copy it
    FailoverSnapshot published_;
};

}  // namespace dlba::dlbad
