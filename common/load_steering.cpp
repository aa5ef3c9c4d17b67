#include "load_steering.hpp"

namespace dlba {

std::vector<uint16_t> steered_nodes(const std::vector<NodeLoad>& nodes, const LoadSteeringRule& rule) {
    std::optional<uint32_t> lowest;  // the least-loaded eligible node with a known load
    for (const NodeLoad& n : nodes) {
        if (n.eligible && n.load_pct && (!lowest || *n.load_pct < *lowest)) lowest = *n.load_pct;
    }
    std::vector<uint16_t> out;
    if (!lowest) return out;
    const uint32_t release_at = rule.high_pct > rule.hysteresis_pct ? rule.high_pct - rule.hysteresis_pct : 0;
    for (const NodeLoad& n : nodes) {
        if (!n.eligible || !n.load_pct) continue;
        const uint32_t load = *n.load_pct;
        const bool high = n.steered ? load > release_at : load > rule.high_pct;
        // "Some eligible peer at least margin lower": the lowest one is the one to look at (it is not this node
        // when the margin is met, since the margin is at least 1).
        const bool peer_lower = *lowest + rule.margin_pct <= load;
        if (high && peer_lower) out.push_back(n.node);
    }
    return out;
}

}  // namespace dlba
