// The one way the control plane changes the data plane: it posts a Command and the data-plane lcore applies it at
// the top of its poll loop, so the bucket table keeps a single writer and the fast path takes no lock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include <rte_ring.h>

#include "net_types.hpp"

namespace dlba::sched {

enum class CommandKind : uint8_t {
    set_role,     // value: 1 active, 0 standby
    set_failed,   // node, value: 1 failed, 0 live
    set_admin,    // node, value: NodeAdmin
    set_weight,   // node, value: weight
    touch_all,    // every bucket's last access becomes now
    apply_sync,   // payload: a decoded sync::Message from the active scheduler (standby only)
    set_node,     // node, payload: NodeUpdate (configuration reload: add a node or change its MAC/weight/admin)
    remove_node,  // node: gone from the configuration, its buckets freed
    set_steered,  // node, value: 1 steered away (load steering), 0 not
    set_direct_ips,  // payload: DirectIpList (dataplane/direct_ips.hpp), the nodes' direct IPs
};

struct NodeUpdate {
    MacAddr eth0_mac;
    uint32_t weight = 1;
    uint8_t admin = 0;  // NodeAdmin
};

struct Command {
    CommandKind kind;
    uint16_t node = 0;
    uint32_t value = 0;
    const void* payload = nullptr;
    bool ok = false;
    std::atomic<bool> done{false};
};

class CommandQueue {
public:
    // Producers: the control thread and the table-sync thread; single consumer: the data-plane lcore.
    explicit CommandQueue(const std::string& name);
    ~CommandQueue();
    CommandQueue(const CommandQueue&) = delete;
    CommandQueue& operator=(const CommandQueue&) = delete;

    bool valid() const { return ring_ != nullptr; }
    bool post(Command* cmd) { return rte_ring_mp_enqueue(ring_, cmd) == 0; }
    unsigned take(Command** out, unsigned max) {
        return rte_ring_sc_dequeue_burst(ring_, reinterpret_cast<void**>(out), max, nullptr);
    }

private:
    rte_ring* ring_;
};

// What became of a command.
enum class CommandOutcome : uint8_t {
    applied,     // the data plane applied it
    refused,     // the data plane looked at it and said no (e.g. a sync delta that no longer fits the table)
    queue_full,  // not posted: the data plane is behind
    timed_out,   // posted, not applied in time: the data plane may still read it (and its payload) later
};
// For operators: "data plane refused the command", ...; "" for applied.
const char* outcome_text(CommandOutcome outcome);

inline constexpr std::chrono::milliseconds kCommandTimeout{3000};

// Posts a command and waits (bounded) for the data plane to apply it. On time-out the command is deliberately
// leaked, since the data plane may still touch it later; so must its payload be. Control-plane only.
CommandOutcome run_command(CommandQueue& queue, CommandKind kind, uint16_t node, uint32_t value,
                           const void* payload = nullptr, std::chrono::milliseconds timeout = kCommandTimeout);

}  // namespace dlba::sched
