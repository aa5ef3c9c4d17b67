#include "worker.hpp"

#include "bucket_sync.hpp"
#include "control/sync_steps.hpp"

namespace dlba::sched {

void Worker::apply_commands() {
    Command* cmds[8];
    const unsigned n = commands_.take(cmds, 8);
    for (unsigned i = 0; i < n; ++i) {
        Command& c = *cmds[i];
        bool ok = true;
        switch (c.kind) {
            case CommandKind::set_role: {
                const bool to_active = c.value != 0;
                if (to_active) {  // also when already active: a re-announcement after a split brain
                    // Announce at once and a few more times, spaced out, in case the first ones are lost.
                    garps_left_ = settings_.garp_count;
                    next_garp_ms_ = 0;
                }
                if (!to_active) garps_left_ = 0;
                // Active: the table is ours (busy buckets stay busy, failed nodes' buckets are freed now).
                // Standby: the table mirrors the active's.
                table_.set_mirror(!to_active, read_clock().now_s);
                cfg_.active = to_active;
                active_.store(to_active, std::memory_order_relaxed);
                break;
            }
            case CommandKind::set_failed: ok = table_.set_failed(c.node, c.value != 0); break;
            case CommandKind::set_admin:
                ok = c.value <= static_cast<uint32_t>(NodeAdmin::disabled) &&
                     table_.set_admin(c.node, static_cast<NodeAdmin>(c.value));
                break;
            case CommandKind::set_weight: ok = table_.set_weight(c.node, c.value); break;
            case CommandKind::set_steered: ok = table_.set_steered(c.node, c.value != 0); break;
            case CommandKind::touch_all: table_.touch_all(read_clock().now_s); break;
            case CommandKind::apply_sync: ok = apply_sync(c.payload); break;
            case CommandKind::set_node: {
                const auto& u = *static_cast<const NodeUpdate*>(c.payload);
                ok = c.node >= 1 && c.node <= kMaxNodeNumber && u.admin <= static_cast<uint8_t>(NodeAdmin::disabled);
                if (ok) table_.set_node(c.node, u.eth0_mac, u.weight, static_cast<NodeAdmin>(u.admin));
                break;
            }
            case CommandKind::remove_node: ok = table_.remove_node(c.node); break;
            case CommandKind::set_direct_ips:
                ok = direct_ && direct_->set(*static_cast<const DirectIpList*>(c.payload), cfg_);
                break;
        }
        c.ok = ok;
        c.done.store(true, std::memory_order_release);
    }
}

bool Worker::apply_sync(const void* payload) {
    const auto& m = *static_cast<const sync::Message*>(payload);
    return sync::apply(table_, m, read_clock().now_s) == sync::Applied::applied;
}

void Worker::send_garp(uint64_t now_ms, uint32_t next_in_ms) {
    next_garp_ms_ = now_ms + next_in_ms;
    send_garp_for(cfg_.vip);
    for (uint8_t i = 0; i < cfg_.direct_count; ++i) send_garp_for(cfg_.direct_ips[i]);
}

void Worker::send_garp_for(uint32_t ip) {
    rte_mbuf* m = rte_pktmbuf_alloc(settings_.pool);
    if (!m) {
        counters_.alloc_failed.add();
        return;
    }
    auto* data = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, pkt::kGarpLength));
    pkt::build_gratuitous_arp(data, cfg_.port_mac, ip);
    counters_.garp_sent.add();
    transmit(&m, 1);
}

}  // namespace dlba::sched
