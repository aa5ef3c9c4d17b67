#include "bucket_table.hpp"

#include <cassert>

namespace dlba {

const char* node_admin_name(NodeAdmin admin) {
    switch (admin) {
        case NodeAdmin::enabled: return "enabled";
        case NodeAdmin::draining: return "draining";
        case NodeAdmin::disabled: return "disabled";
    }
    return "?";
}

BucketTable::BucketTable(uint32_t size, uint32_t idle_timeout_s)
    : size_(size), idle_timeout_(idle_timeout_s), entries_(new std::atomic<uint64_t>[size]) {
    eligible_.reserve(kMaxNodeNumber);  // rebuilt on node changes without allocating
    assert(size >= 1);
    for (uint32_t i = 0; i < size_; ++i) entries_[i].store(kUnassigned, std::memory_order_relaxed);
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
    if (number < 1 || number > kMaxNodeNumber || !nodes_[number].present) return false;
    free_buckets_of(number);
    NodeSlot& slot = nodes_[number];
    slot.present = false;
    slot.failed = false;
    slot.admin = NodeAdmin::disabled;
    slot.weight = 0;
    rebuild_eligible();
    return true;
}

bool BucketTable::set_failed(uint16_t number, bool failed) {
    if (number < 1 || number > kMaxNodeNumber || !nodes_[number].present) return false;
    NodeSlot& slot = nodes_[number];
    if (slot.failed == failed) return true;
    slot.failed = failed;
    if (failed) free_buckets_of(number);
    rebuild_eligible();
    return true;
}

bool BucketTable::set_admin(uint16_t number, NodeAdmin admin) {
    if (number < 1 || number > kMaxNodeNumber || !nodes_[number].present) return false;
    NodeSlot& slot = nodes_[number];
    if (slot.admin == admin) return true;
    slot.admin = admin;
    if (admin == NodeAdmin::disabled) free_buckets_of(number);
    rebuild_eligible();
    return true;
}

bool BucketTable::set_weight(uint16_t number, uint32_t weight) {
    if (number < 1 || number > kMaxNodeNumber || !nodes_[number].present) return false;
    nodes_[number].weight = weight;  // moves nothing: weight steers only new and idle buckets
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
    const uint16_t chosen = pick(current);
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
        bump_version();
    }
    store(bucket, chosen, now);
    return chosen;
}

uint16_t BucketTable::pick(uint16_t releasing) const {
    uint16_t best = kUnassigned;
    uint64_t best_load = 0;
    uint64_t best_weight = 1;
    for (const uint16_t n : eligible_) {
        const NodeSlot& slot = nodes_[n];
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
    if (nodes_[number].buckets.get() == 0) return;
    for (uint32_t i = 0; i < size_; ++i) {
        const uint64_t word = entries_[i].load(std::memory_order_relaxed);
        if (static_cast<uint16_t>(word) == number) {
            entries_[i].store((word & ~uint64_t{0xFFFF}) | kUnassigned, std::memory_order_relaxed);
        }
    }
    nodes_[number].buckets.set(0);
    bump_version();
}

void BucketTable::rebuild_eligible() {
    eligible_.clear();
    for (uint16_t n = 1; n <= kMaxNodeNumber; ++n) {
        if (nodes_[n].eligible()) eligible_.push_back(n);
    }
}

}  // namespace dlba
