// The client IP/port bucket table and the scheduling half of the server status table (seed: Figs. 4 and 5).
//
// A bucket holds the number of the node that owns the connections hashing to it, or kUnassigned (the seed's
// "unsigned -1"), and the time it last saw a packet. One thread (the data-plane lcore) owns the table and is the
// only writer; other threads may read entries and counters at any time through relaxed atomics, which on x86 are
// plain loads and stores. Time is passed in, never read, so every rule here is testable with a fake clock.
#pragma once

#include <array>
#include <cstdlib>
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
    bool steered = false;  // load steering (common/load_steering): no new or idle buckets while others can take them
    Counter buckets;  // "# IP groups assigned"
    Counter packets;  // frames forwarded to this node
    Counter bytes;

    bool eligible() const { return present && !failed && admin == NodeAdmin::enabled && weight > 0; }
};

// One change to the bucket->node map, as the table sync carries it. Every version number names exactly one change.
enum class ChangeKind : uint8_t {
    set_bucket = 1,  // bucket now belongs to node (kUnassigned included)
    free_node = 2,   // every bucket of node became unassigned (node failed or disabled)
};
struct Change {
    ChangeKind kind = ChangeKind::set_bucket;
    uint32_t bucket = 0;
    uint16_t node = kUnassigned;
    friend bool operator==(const Change&, const Change&) = default;
};

struct BucketTableStats {
    Counter assigned;    // unassigned bucket given a node
    Counter reassigned;  // idle bucket moved to another node
    Counter no_node;     // a bucket needed a node and none was eligible
    Counter load_steered;  // assignments that passed over a steered node (load steering)
};

class BucketTable {
public:
    // `journal_size` changes are remembered for delta sync (rounded up to a power of two); a standby further
    // behind than that gets a full copy.
    BucketTable(uint32_t size, uint32_t idle_timeout_s, uint32_t journal_size = 1u << 16);

    uint32_t size() const { return size_; }
    uint32_t idle_timeout() const { return idle_timeout_; }
    uint64_t version() const { return version_.load(std::memory_order_relaxed); }
    // The version a standby's table-sync pull asks from. A table that was a writer (active) and became a mirror
    // again holds changes of its own under versions the new active also uses: equal versions no longer mean equal
    // tables, so it asks for a full copy (a version past any source's: the answer is a snapshot) until it has one.
    uint64_t pull_from_version() const {
        return own_changes_.load(std::memory_order_relaxed) ? UINT64_MAX : version();
    }

    // ---- node changes (owner thread) -------------------------------------------------------------------------
    // Adds the node or updates its MAC, weight and admin state; a change to disabled frees its buckets.
    void set_node(uint16_t number, const MacAddr& eth0_mac, uint32_t weight, NodeAdmin admin);
    // Removes the node from the table, freeing its buckets.
    bool remove_node(uint16_t number);
    // Failed frees all the node's buckets at once; live again makes it eligible for new and idle buckets.
    bool set_failed(uint16_t number, bool failed);
    bool set_admin(uint16_t number, NodeAdmin admin);
    bool set_weight(uint16_t number, uint32_t weight);
    // Load steering: a steered node gets no new or idle bucket while another eligible node can take it; its busy
    // buckets stay. Moves nothing by itself.
    bool set_steered(uint16_t number, bool steered);
    // On takeover every bucket counts as busy from now, so no live connection is moved by idle reassignment.
    void touch_all(uint32_t now);

    // ---- table sync (owner thread) -----------------------------------------------------------------------------
    // A mirror (standby) takes its map from the active's changes only: node failures and disables change the
    // node's flags but leave its buckets to the active's journal. Leaving mirror mode (takeover) marks every bucket
    // busy from `now` and frees the buckets of nodes that are failed or disabled by then.
    void set_mirror(bool mirror, uint32_t now);
    bool mirror() const { return mirror_.load(std::memory_order_relaxed); }
    // Applies one change of the active's journal and takes its version (versions must come in order).
    void apply(const Change& change, uint64_t version, uint32_t now);
    // Replaces the whole map with `nodes` (one entry per bucket) at `version`; every bucket busy from `now`.
    void load_snapshot(const std::vector<uint16_t>& nodes, uint64_t version, uint32_t now);

    // ---- table sync (any thread) -----------------------------------------------------------------------------
    // The changes after `from` up to the current version, in order; false when the journal no longer reaches
    // back that far (the reader then takes a snapshot). `to` receives the version the changes lead to.
    bool changes_since(uint64_t from, std::vector<Change>& out, uint64_t& to) const;
    // Copies the map; returns a version V such that the copy holds every change up to V (later changes may be
    // partly in it too: applying the changes after V on top converges).
    uint64_t snapshot(std::vector<uint16_t>& out) const;

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
    // Gives `bucket` to `node` whatever it held (a returned node's direct IP claiming an idle bucket, see
    // scheduler/dataplane/direct_ips.hpp) and refreshes its last access; the move is journalled like any other.
    void claim(uint32_t bucket, uint16_t node, uint32_t now) {
        const uint16_t current = owner(bucket);
        if (current != node) {
            set_bucket_node(bucket, node, now);
            (current == kUnassigned ? stats_.assigned : stats_.reassigned).add();
            record({ChangeKind::set_bucket, bucket, node});
            return;
        }
        const auto last = static_cast<uint32_t>(entries_[bucket].load(std::memory_order_relaxed) >> 32);
        if (last != now) store(bucket, node, now);
    }
    // Starts loading a bucket's entry ahead of lookup_or_assign()/owner(), so that a burst's misses overlap.
    void prefetch(uint32_t bucket) const { __builtin_prefetch(&entries_[bucket], 0, 3); }
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
    // bucket being decided. Ties go to `releasing` (no needless move), then to the lower node number. Steered nodes
    // are passed over while an unsteered eligible node exists (*passed_steered says so).
    uint16_t pick(uint16_t releasing, bool* passed_steered) const;
    NodeSlot* configured(uint16_t number);  // nullptr unless 1..255 and in the configuration
    void change_state(uint16_t number, bool failed, NodeAdmin admin);
    void free_buckets_of(uint16_t number);
    void rebuild_eligible();
    void store(uint32_t bucket, uint16_t node, uint32_t now) {
        entries_[bucket].store(static_cast<uint64_t>(now) << 32 | node, std::memory_order_relaxed);
    }
    // Records `change` as the next version in the journal and publishes the version.
    void record(const Change& change) { record_at(version_.load(std::memory_order_relaxed) + 1, change); }
    void record_at(uint64_t version, const Change& change);
    void set_bucket_node(uint32_t bucket, uint16_t node, uint32_t now);
    void clear_buckets_of(uint16_t number);

    // A per-slot sequence lock: seq is 2v+1 while version v is written, 2v once it is complete.
    struct JournalSlot {
        std::atomic<uint64_t> seq{0};
        std::atomic<uint64_t> change{0};
    };

    uint32_t size_;
    uint32_t idle_timeout_;
    struct FreeDeleter {
        void operator()(std::atomic<uint64_t>* p) const { std::free(p); }
    };
    std::unique_ptr<std::atomic<uint64_t>[], FreeDeleter> entries_;  // 2 MiB-aligned, see the constructor
    std::array<NodeSlot, kMaxNodeNumber + 1> nodes_{};
    std::vector<uint16_t> eligible_;
    bool any_steered_ = false;      // some eligible node is steered
    bool all_steered_ = false;      // every eligible node is steered: the normal rule among them
    std::atomic<uint64_t> version_{0};
    std::unique_ptr<JournalSlot[]> journal_;
    uint32_t journal_mask_;
    std::atomic<bool> mirror_{false};
    std::atomic<bool> own_changes_{false};  // a writer once, a mirror now, no full copy loaded since
    BucketTableStats stats_;
};

}  // namespace dlba
