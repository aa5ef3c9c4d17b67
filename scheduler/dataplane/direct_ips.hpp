// Address takeover (issue 13, seed 004): each node may have a direct IP, a client-facing address of its own that
// every node holds on lo like the VIP. The active scheduler answers ARP for it and routes its traffic here:
//
//   direct      the node is live and enabled: straight to it, the bucket table untouched;
//   taken_over  the node failed, is draining or disabled, or left the table: through the bucket table like the VIP
//               (every node holds the address, so whichever node owns the bucket answers);
//   returning   the node is back: a bucket that is busy with another owner keeps it (established flows stay where
//               they are, by bucket), an idle or unassigned bucket is claimed for the node. Once no packet has needed
//               another owner for the table's idle timeout, the address is direct again.
//
// Fixed arrays, written by the data-plane lcore only (refresh() once per poll loop, route() per packet, set() when
// a command brings a new list); other threads read the published mode and counters through relaxed atomics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "bucket_table.hpp"
#include "counter.hpp"
#include "packet.hpp"

namespace dlba::sched {

enum class DirectMode : uint8_t { direct, taken_over, returning };
inline const char* direct_mode_name(DirectMode m) {
    switch (m) {
        case DirectMode::direct: return "direct";
        case DirectMode::taken_over: return "taken_over";
        case DirectMode::returning: return "returning";
    }
    return "?";
}

// What the control plane publishes (command set_direct_ips): the configuration's (direct IP, node) pairs.
struct DirectIpList {
    std::array<uint32_t, pkt::kMaxDirectIps> ip{};
    std::array<uint16_t, pkt::kMaxDirectIps> node{};
    uint8_t count = 0;
};

struct DirectIpSlot {
    uint32_t ip = 0;
    uint16_t node = 0;
    std::atomic<uint8_t> mode{static_cast<uint8_t>(DirectMode::direct)};
    uint32_t foreign_s = 0;  // returning: the last second a packet still went to another node's bucket
    Counter direct;          // packets sent straight to the node
    Counter taken_over;      // packets sent through the bucket table to another node
    Counter takeovers;       // times the address was taken over

    DirectMode current() const { return static_cast<DirectMode>(mode.load(std::memory_order_relaxed)); }
};

class DirectIps {
public:
    // The lcore's copy of the list; `cfg` learns the addresses for the classifier. Slots whose (ip, node) did not
    // change keep their mode and counters. False when the list is too long.
    bool set(const DirectIpList& list, pkt::ClassifierConfig& cfg) {
        if (list.count > pkt::kMaxDirectIps) return false;
        std::array<uint8_t, pkt::kMaxDirectIps> keep{};
        std::array<uint32_t, pkt::kMaxDirectIps> keep_foreign{};
        for (uint8_t i = 0; i < list.count; ++i) {
            keep[i] = static_cast<uint8_t>(DirectMode::direct);
            for (uint8_t j = 0; j < count_; ++j) {
                if (slots_[j].ip == list.ip[i] && slots_[j].node == list.node[i]) {
                    keep[i] = slots_[j].mode.load(std::memory_order_relaxed);
                    keep_foreign[i] = slots_[j].foreign_s;
                }
            }
        }
        for (uint8_t i = 0; i < list.count; ++i) {
            DirectIpSlot& s = slots_[i];
            const bool same = i < count_ && s.ip == list.ip[i] && s.node == list.node[i];
            if (!same) {
                s.direct.set(0);
                s.taken_over.set(0);
                s.takeovers.set(0);
            }
            s.ip = list.ip[i];
            s.node = list.node[i];
            s.mode.store(keep[i], std::memory_order_relaxed);
            s.foreign_s = keep_foreign[i];
            cfg.direct_ips[i] = list.ip[i];
        }
        count_ = list.count;
        cfg.direct_count = list.count;
        return true;
    }

    // Follows the nodes' state in the table. True when some address was just taken over (announce it again).
    bool refresh(const BucketTable& table, uint32_t now_s) {
        bool announce = false;
        for (uint8_t i = 0; i < count_; ++i) {
            DirectIpSlot& s = slots_[i];
            const NodeSlot& n = table.node(s.node);
            const bool serves = n.present && !n.failed && n.admin == NodeAdmin::enabled;
            const DirectMode m = s.current();
            if (!serves && m != DirectMode::taken_over) {
                publish(s, DirectMode::taken_over);
                s.takeovers.add();
                announce = true;
            } else if (serves && m == DirectMode::taken_over) {
                publish(s, DirectMode::returning);
                s.foreign_s = now_s;
            } else if (m == DirectMode::returning && now_s - s.foreign_s > table.idle_timeout()) {
                publish(s, DirectMode::direct);
            }
        }
        return announce;
    }

    // The node for a packet to direct IP `slot` (Classified::direct - 1) hashing to `bucket`; kUnassigned when
    // none can take it. `assign` false (ICMP errors): never gives a bucket a node.
    uint16_t route(uint8_t slot, BucketTable& table, uint32_t bucket, uint32_t now_s, bool assign = true) {
        DirectIpSlot& s = slots_[slot];
        switch (s.current()) {
            case DirectMode::direct:
                s.direct.add();
                return s.node;
            case DirectMode::taken_over: {
                const uint16_t node = assign ? table.lookup_or_assign(bucket, now_s) : table.owner(bucket);
                if (node != kUnassigned) s.taken_over.add();
                return node;
            }
            case DirectMode::returning: {
                const BucketEntry e = table.entry(bucket);
                if (e.node != kUnassigned && e.node != s.node && now_s - e.last_access <= table.idle_timeout()) {
                    s.foreign_s = now_s;
                    s.taken_over.add();
                    return assign ? table.lookup_or_assign(bucket, now_s) : e.node;
                }
                if (assign) table.claim(bucket, s.node, now_s);
                s.direct.add();
                return s.node;
            }
        }
        return kUnassigned;
    }

    uint8_t count() const { return count_; }
    const DirectIpSlot& slot(uint8_t i) const { return slots_[i]; }

private:
    static void publish(DirectIpSlot& s, DirectMode m) {
        s.mode.store(static_cast<uint8_t>(m), std::memory_order_relaxed);
    }

    std::array<DirectIpSlot, pkt::kMaxDirectIps> slots_{};
    uint8_t count_ = 0;
};

}  // namespace dlba::sched
