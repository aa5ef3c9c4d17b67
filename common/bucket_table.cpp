#include "bucket_table.hpp"

#include <array>
#include <cassert>
#include <new>

#include <sys/mman.h>

namespace dlba {

const char* node_admin_name(NodeAdmin admin) {
    switch (admin) {
        case NodeAdmin::enabled: return "enabled";
        case NodeAdmin::draining: return "draining";
        case NodeAdmin::disabled: return "disabled";
    }
    return "?";
}

namespace {
uint32_t round_up_pow2(uint32_t n) {
    uint32_t p = 1;
    while (p < n) p <<= 1;
    return p;
}
uint64_t pack_change(const Change& c) {
    return static_cast<uint64_t>(c.kind) << 48 | static_cast<uint64_t>(c.node) << 32 | c.bucket;
}
// The table on 2 MiB boundaries with transparent huge pages requested: a 16M-bucket table is 128 MiB, and with
// 4 KiB pages nearly every packet's lookup would also miss the TLB. Harmless where THP is off.
std::atomic<uint64_t>* allocate_entries(uint32_t size) {
    constexpr size_t kHuge = 2u << 20;
    const size_t bytes = (static_cast<size_t>(size) * sizeof(std::atomic<uint64_t>) + kHuge - 1) / kHuge * kHuge;
    void* mem = std::aligned_alloc(kHuge, bytes);
    if (!mem) throw std::bad_alloc();
    madvise(mem, bytes, MADV_HUGEPAGE);
    auto* entries = static_cast<std::atomic<uint64_t>*>(mem);
    for (uint32_t i = 0; i < size; ++i) new (&entries[i]) std::atomic<uint64_t>(kUnassigned);
    return entries;
}

Change unpack_change(uint64_t w) {
    return {static_cast<ChangeKind>(w >> 48), static_cast<uint32_t>(w), static_cast<uint16_t>(w >> 32)};
}
}  // namespace

BucketTable::BucketTable(uint32_t size, uint32_t idle_timeout_s, uint32_t journal_size)
    : size_(size), idle_timeout_(idle_timeout_s), entries_(allocate_entries(size)),
      journal_(new JournalSlot[round_up_pow2(journal_size < 2 ? 2 : journal_size)]),
      journal_mask_(round_up_pow2(journal_size < 2 ? 2 : journal_size) - 1) {
    eligible_.reserve(kMaxNodeNumber);  // rebuilt on node changes without allocating
    assert(size >= 1);
}

void BucketTable::set_node(uint16_t number, const MacAddr& eth0_mac, uint32_t weight, NodeAdmin admin) {
    assert(number >= 1 && number <= kMaxNodeNumber);
    NodeSlot& slot = nodes_[number];
    slot.present = true;
    slot.eth0_mac = eth0_mac;
    slot.weight = weight;
    if (slot.admin != admin) {
        slot.admin = admin;
        if (admin == NodeAdmin::disabled) free_buckets_of(number);
    }
    rebuild_eligible();
}

bool BucketTable::remove_node(uint16_t number) {
    if (!configured(number)) return false;
    free_buckets_of(number);
    NodeSlot& slot = nodes_[number];
    slot.present = false;
    slot.failed = false;
    slot.admin = NodeAdmin::disabled;
    slot.weight = 0;
    rebuild_eligible();
    return true;
}

NodeSlot* BucketTable::configured(uint16_t number) {
    return number >= 1 && number <= kMaxNodeNumber && nodes_[number].present ? &nodes_[number] : nullptr;
}

// A node that turns failed or disabled loses all its buckets at once; any change re-ranks the eligible nodes.
void BucketTable::change_state(uint16_t number, bool failed, NodeAdmin admin) {
    NodeSlot& slot = nodes_[number];
    const bool loses_all = (failed && !slot.failed) || (admin == NodeAdmin::disabled && slot.admin != admin);
    slot.failed = failed;
    slot.admin = admin;
    if (loses_all) free_buckets_of(number);
    rebuild_eligible();
}

bool BucketTable::set_failed(uint16_t number, bool failed) {
    const NodeSlot* slot = configured(number);
    if (slot && slot->failed != failed) change_state(number, failed, slot->admin);
    return slot != nullptr;
}

bool BucketTable::set_admin(uint16_t number, NodeAdmin admin) {
    const NodeSlot* slot = configured(number);
    if (slot && slot->admin != admin) change_state(number, slot->failed, admin);
    return slot != nullptr;
}

bool BucketTable::set_weight(uint16_t number, uint32_t weight) {
    NodeSlot* slot = configured(number);
    if (!slot) return false;
    slot->weight = weight;  // moves nothing: weight steers only new and idle buckets
    rebuild_eligible();
    return true;
}

bool BucketTable::set_steered(uint16_t number, bool steered) {
    NodeSlot* slot = configured(number);
    if (!slot) return false;
    slot->steered = steered;
    rebuild_eligible();
    return true;
}

void BucketTable::touch_all(uint32_t now) {
    for (uint32_t i = 0; i < size_; ++i) {
        const uint16_t node = static_cast<uint16_t>(entries_[i].load(std::memory_order_relaxed));
        store(i, node, now);
    }
}

uint64_t BucketTable::unassigned_buckets() const {
    uint64_t assigned = 0;
    for (uint16_t n = 1; n <= kMaxNodeNumber; ++n) assigned += nodes_[n].buckets.get();
    return size_ - assigned;
}

uint16_t BucketTable::assign(uint32_t bucket, uint16_t current, uint32_t now) {
    bool passed_steered = false;
    const uint16_t chosen = pick(current, &passed_steered);
    if (chosen == kUnassigned) {
        // Nobody can take it. A draining owner keeps serving its idle bucket rather than dropping the client.
        if (current == kUnassigned) {
            stats_.no_node.add();
            return kUnassigned;
        }
        store(bucket, current, now);
        return current;
    }
    if (chosen != current) {
        if (current == kUnassigned) {
            stats_.assigned.add();
        } else {
            nodes_[current].buckets.sub();
            stats_.reassigned.add();
        }
        nodes_[chosen].buckets.add();
        if (passed_steered) stats_.load_steered.add();
        store(bucket, chosen, now);
        record({ChangeKind::set_bucket, bucket, chosen});
        return chosen;
    }
    store(bucket, chosen, now);
    return chosen;
}

uint16_t BucketTable::pick(uint16_t releasing, bool* passed_steered) const {
    uint16_t best = kUnassigned;
    uint64_t best_load = 0;
    uint64_t best_weight = 1;
    const bool skip_steered = any_steered_ && !all_steered_;
    for (const uint16_t n : eligible_) {
        const NodeSlot& slot = nodes_[n];
        if (skip_steered && slot.steered) {
            *passed_steered = true;
            continue;
        }
        uint64_t load = slot.buckets.get();
        if (n == releasing && load > 0) --load;
        const uint64_t weight = slot.weight;
        if (best == kUnassigned) {
            best = n, best_load = load, best_weight = weight;
            continue;
        }
        // load/weight < best_load/best_weight, without division.
        const unsigned __int128 lhs = static_cast<unsigned __int128>(load) * best_weight;
        const unsigned __int128 rhs = static_cast<unsigned __int128>(best_load) * weight;
        if (lhs < rhs || (lhs == rhs && n == releasing)) best = n, best_load = load, best_weight = weight;
    }
    return best;
}

void BucketTable::free_buckets_of(uint16_t number) {
    if (mirror_ || nodes_[number].buckets.get() == 0) return;  // a mirror waits for the active's journal
    clear_buckets_of(number);
    record({ChangeKind::free_node, 0, number});
}

void BucketTable::clear_buckets_of(uint16_t number) {
    for (uint32_t i = 0; i < size_; ++i) {
        const uint64_t word = entries_[i].load(std::memory_order_relaxed);
        if (static_cast<uint16_t>(word) == number) {
            entries_[i].store((word & ~uint64_t{0xFFFF}) | kUnassigned, std::memory_order_relaxed);
        }
    }
    nodes_[number].buckets.set(0);
}

void BucketTable::set_bucket_node(uint32_t bucket, uint16_t node, uint32_t now) {
    const uint16_t old = static_cast<uint16_t>(entries_[bucket].load(std::memory_order_relaxed));
    if (old == node) return;
    if (old != kUnassigned && old <= kMaxNodeNumber) nodes_[old].buckets.sub();
    if (node != kUnassigned && node <= kMaxNodeNumber) nodes_[node].buckets.add();
    store(bucket, node, now);
}

void BucketTable::record_at(uint64_t version, const Change& change) {
    JournalSlot& slot = journal_[version & journal_mask_];
    slot.seq.store(2 * version + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    slot.change.store(pack_change(change), std::memory_order_relaxed);
    slot.seq.store(2 * version, std::memory_order_release);
    version_.store(version, std::memory_order_release);
}

void BucketTable::set_mirror(bool mirror, uint32_t now) {
    if (mirror_.load(std::memory_order_relaxed) == mirror) return;
    mirror_.store(mirror, std::memory_order_relaxed);
    if (mirror) {
        if (version() != 0) own_changes_.store(true, std::memory_order_relaxed);
        return;
    }
    touch_all(now);
    for (uint16_t n = 1; n <= kMaxNodeNumber; ++n) {
        const NodeSlot& slot = nodes_[n];
        if (slot.present && (slot.failed || slot.admin == NodeAdmin::disabled)) free_buckets_of(n);
    }
}

void BucketTable::apply(const Change& change, uint64_t version, uint32_t now) {
    if (change.kind == ChangeKind::free_node) {
        if (change.node >= 1 && change.node <= kMaxNodeNumber) clear_buckets_of(change.node);
    } else if (change.bucket < size_) {
        set_bucket_node(change.bucket, change.node, now);
    }
    record_at(version, change);
}

void BucketTable::load_snapshot(const std::vector<uint16_t>& nodes, uint64_t version, uint32_t now) {
    for (uint16_t n = 1; n <= kMaxNodeNumber; ++n) nodes_[n].buckets.set(0);
    std::array<uint64_t, kMaxNodeNumber + 1> counts{};
    for (uint32_t i = 0; i < size_; ++i) {
        const uint16_t node = i < nodes.size() && nodes[i] <= kMaxNodeNumber ? nodes[i] : kUnassigned;
        if (node != kUnassigned) ++counts[node];
        store(i, node, now);
    }
    for (uint16_t n = 1; n <= kMaxNodeNumber; ++n) nodes_[n].buckets.set(counts[n]);
    // The journal before this version is not ours any more: make sure no stale slot passes for a later version.
    for (uint32_t i = 0; i <= journal_mask_; ++i) journal_[i].seq.store(0, std::memory_order_relaxed);
    own_changes_.store(false, std::memory_order_relaxed);
    version_.store(version, std::memory_order_release);
}

bool BucketTable::changes_since(uint64_t from, std::vector<Change>& out, uint64_t& to) const {
    out.clear();
    to = version_.load(std::memory_order_acquire);
    if (from > to) return false;  // the reader is ahead of us: it follows another table, take a snapshot
    if (to - from > journal_mask_) return false;
    for (uint64_t v = from + 1; v <= to; ++v) {
        const JournalSlot& slot = journal_[v & journal_mask_];
        const uint64_t seq = slot.seq.load(std::memory_order_acquire);
        if (seq != 2 * v) return false;  // overwritten by a later version, or never written here
        const uint64_t word = slot.change.load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (slot.seq.load(std::memory_order_relaxed) != seq) return false;
        out.push_back(unpack_change(word));
    }
    return true;
}

uint64_t BucketTable::snapshot(std::vector<uint16_t>& out) const {
    const uint64_t version = version_.load(std::memory_order_acquire);
    out.resize(size_);
    for (uint32_t i = 0; i < size_; ++i) out[i] = static_cast<uint16_t>(entries_[i].load(std::memory_order_relaxed));
    return version;
}

void BucketTable::rebuild_eligible() {
    eligible_.clear();
    size_t steered = 0;
    for (uint16_t n = 1; n <= kMaxNodeNumber; ++n) {
        if (!nodes_[n].eligible()) continue;
        eligible_.push_back(n);
        steered += nodes_[n].steered ? 1 : 0;
    }
    any_steered_ = steered > 0;
    all_steered_ = steered == eligible_.size();
}

}  // namespace dlba
