// The seed's two-threshold rule (seed 004) at array level, as a pure function: which nodes are steered away from
// new and idle buckets this round. The active scheduler's dlbad decides it from the loads in the heartbeats and
// tells the data plane (BucketTable::set_steered), which keeps assigning to a steered node only when no other
// eligible node is left.
//
//   A node whose load is above high_pct while some eligible peer is at least margin_pct lower is steered away.
//   A steered node stays steered until its load is at or below high_pct - hysteresis_pct (or no peer is margin_pct
//   lower any more). When every node is high and within the margin nobody is steered: the normal rule applies.
//   The scheduler's own node is one node like any other. Nodes that are not eligible, or whose load is not known,
//   are never steered and are nobody's reference.
// With margin_pct >= 1 the least-loaded eligible node is never steered, so some eligible node always takes buckets.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace dlba {

struct LoadSteeringRule {
    uint32_t high_pct = 50;
    uint32_t margin_pct = 20;      // >= 1
    uint32_t hysteresis_pct = 10;  // < high_pct
};

struct NodeLoad {
    uint16_t node = 0;
    std::optional<uint32_t> load_pct;  // 0..100; none: not known (no fresh heartbeat)
    bool eligible = false;             // could take buckets (enabled, live, weight > 0)
    bool steered = false;              // steered away in the previous round
};

// The nodes steered away this round, in the order given.
std::vector<uint16_t> steered_nodes(const std::vector<NodeLoad>& nodes, const LoadSteeringRule& rule);

}  // namespace dlba
