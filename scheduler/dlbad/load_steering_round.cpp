// The active's load-steering round (seed 004's two thresholds at array level): the loads of the heartbeats and our
// own, the rule of common/load_steering, and each node's verdict to the local scheduler, whose data plane applies
// it to new and idle buckets (BucketTable::set_steered).
#include <algorithm>

#include "load_steering.hpp"
#include "node_daemon.hpp"

namespace dlba::dlbad {

void FailoverLoop::steer_round(uint64_t now) {
    std::vector<NodeLoad> loads;
    for (const NodeConfig& n : config_.nodes) {
        NodeLoad l;
        l.node = n.number;
        l.steered = std::find(steered_.begin(), steered_.end(), n.number) != steered_.end();
        bool live = true;
        if (n.number == id_.node) {
            l.load_pct = own_load();
        } else {
            const auto it = peers_.find(n.number);
            live = it != peers_.end() && now - it->second.last_ms <= config_.failover.dead_after_ms;
            if (live && it->second.last.load_pct != hb::kLoadUnknown) l.load_pct = it->second.last.load_pct;
        }
        if (node_failed_ && node_failed_(n.number)) live = false;
        l.eligible = live && n.enabled && n.weight > 0;
        loads.push_back(l);
    }
    std::vector<uint16_t> steered = steered_nodes(loads, config_.failover.load.rule);
    for (const NodeLoad& l : loads) {
        const bool s = std::find(steered.begin(), steered.end(), l.node) != steered.end();
        if (s != l.steered) {
            event("node " + std::to_string(l.node) + (s ? " steered away from new buckets (load " : " takes new buckets again (load ") +
                  (l.load_pct ? std::to_string(*l.load_pct) + "%)" : std::string("not known)")));
        }
        link_.node_load(l.node, l.load_pct, s);
    }
    steered_ = std::move(steered);
}

}  // namespace dlba::dlbad
