// The client IP/port bucket table and the scheduling half of the server status table (seed: Figs. 4 and 5).
//
// A bucket holds the number of the node that owns the connections hashing to it, or kUnassigned (the seed's
// "unsigned -1"), and the time it last saw a packet. One thread (the data-plane lcore) owns the table and is the
// only writer; other threads may read entries and counters at any time through relaxed atomics, which on x86 are
// plain loads and stores. Time is passed in, never read, so every rule here is testable with a fake clock.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "counter.hpp"
#include "net_types.hpp"

namespace dlba {

constexpr uint16_t kUnassigned = 0xFFFF;
constexpr uint16_t kMaxNodeNumber = 255;  // node numbers are 1..255
constexpr uint32_t kMinTableSize = 1024;
constexpr uint32_t kMaxTableSize = 1u << 26;  // 64 Mi buckets, 512 MiB; the brief asks for at least 16 Mi

// What an operator has asked of a node. A failed node is a separate, liveness-driven flag.
enum class NodeAdmin : uint8_t {
    enabled,   // takes new buckets
    draining,  // keeps the buckets it has while they stay busy, takes no new ones
    disabled,  // loses all its buckets at once, takes none
};
const char* node_admin_name(NodeAdmin admin);

struct BucketEntry {
    uint16_t node;
    uint32_t last_access;  // seconds on the caller's clock
};

struct NodeSlot {
    bool present = false;
    bool failed = false;
    NodeAdmin admin = NodeAdmin::disabled;
    uint32_t weight = 0;
    MacAddr eth0_mac;
    Counter buckets;  // "# IP groups assigned"
    Counter packets;  // frames forwarded to this node
    Counter bytes;

    bool eligible() const { return present && !failed && admin == NodeAdmin::enabled && weight > 0; }
};

struct BucketTableStats {
    Counter assigned;    // unassigned bucket given a node
    Counter reassigned;  // idle bucket moved to another node
    Counter no_node;     // a bucket needed a node and none was eligible
};

class BucketTable {
public:
    BucketTable(uint32_t size, uint32_t idle_timeout_s);

    uint32_t size() const { return size_; }
    uint32_t idle_timeout() const { return idle_timeout_; }
    uint64_t version() const { return version_.load(std::memory_order_relaxed); }

    // ---- node changes (owner thread) -------------------------------------------------------------------------
    // Adds the node or updates its MAC, weight and admin state; a change to disabled frees its buckets.
    void set_node(uint16_t number, const MacAddr& eth0_mac, uint32_t weight, NodeAdmin admin);
    // Removes the node from the table, freeing its buckets.
    bool remove_node(uint16_t number);
    // Failed frees all the node's buckets at once; live again makes it eligible for new and idle buckets.
    bool set_failed(uint16_t number, bool failed);
    bool set_admin(uint16_t number, NodeAdmin admin);
    bool set_weight(uint16_t number, uint32_t weight);
    // On takeover every bucket counts as busy from now, so no live connection is moved by idle reassignment.
    void touch_all(uint32_t now);

    // ---- fast path (owner thread) ----------------------------------------------------------------------------
    // The node for a packet hashing to `bucket`: assigns an unassigned bucket, reassigns an idle one, refreshes
    // last access. kUnassigned when no node is eligible and the bucket has no owner.
    uint16_t lookup_or_assign(uint32_t bucket, uint32_t now) {
        const uint64_t word = entries_[bucket].load(std::memory_order_relaxed);
        const uint16_t node = static_cast<uint16_t>(word);
        const uint32_t last = static_cast<uint32_t>(word >> 32);
        if (node != kUnassigned && now - last <= idle_timeout_) {
            if (last != now) store(bucket, node, now);  // skip the store (and the dirty cache line) within a second
            return node;
        }
        return assign(bucket, node, now);
    }
    // The current owner without assigning anything (ICMP errors, later fragments): kUnassigned if none.
    uint16_t owner(uint32_t bucket) const { return static_cast<uint16_t>(entries_[bucket].load(std::memory_order_relaxed)); }

    // ---- views (any thread) ------------------------------------------------------------------------------------
    BucketEntry entry(uint32_t bucket) const {
        const uint64_t word = entries_[bucket].load(std::memory_order_relaxed);
        return {static_cast<uint16_t>(word), static_cast<uint32_t>(word >> 32)};
    }
    const NodeSlot& node(uint16_t number) const { return nodes_[number]; }
    NodeSlot& node_mut(uint16_t number) { return nodes_[number]; }
    const BucketTableStats& stats() const { return stats_; }
    uint64_t unassigned_buckets() const;

private:
    uint16_t assign(uint32_t bucket, uint16_t current, uint32_t now);
    // The eligible node with the fewest buckets per unit of weight, as if `releasing` had already given up the
    // bucket being decided. Ties go to `releasing` (no needless move), then to the lower node number.
    uint16_t pick(uint16_t releasing) const;
    void free_buckets_of(uint16_t number);
    void rebuild_eligible();
    void store(uint32_t bucket, uint16_t node, uint32_t now) {
        entries_[bucket].store(static_cast<uint64_t>(now) << 32 | node, std::memory_order_relaxed);
    }
    void bump_version() { version_.store(version_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }

    uint32_t size_;
    uint32_t idle_timeout_;
    std::unique_ptr<std::atomic<uint64_t>[]> entries_;
    std::array<NodeSlot, kMaxNodeNumber + 1> nodes_{};
    std::vector<uint16_t> eligible_;
    std::atomic<uint64_t> version_{0};
    BucketTableStats stats_;
};

}  // namespace dlba
