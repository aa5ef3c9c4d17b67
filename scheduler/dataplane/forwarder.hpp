// The per-burst work of the scheduler: classify each frame, pick its node, rewrite the MACs or answer it, and hand
// every mbuf either to the tx array or back to its pool. No allocation, locks, syscalls or logging in here.
#pragma once

#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "bucket_table.hpp"
#include "counters.hpp"
#include "direct_ips.hpp"
#include "fragment_table.hpp"
#include "packet.hpp"

namespace dlba::sched {

constexpr uint16_t kMaxBurst = 32;

struct Clock {
    uint32_t now_s;   // bucket last-access resolution
    uint64_t now_ms;  // fragment table
};

class Forwarder {
public:
    // `direct`: the nodes' direct IPs (null: none; cfg.direct_count must then be 0).
    Forwarder(BucketTable& table, FragmentTable& fragments, const pkt::ClassifierConfig& cfg, LcoreCounters& counters,
              DirectIps* direct = nullptr)
        : table_(table), fragments_(fragments), cfg_(cfg), counters_(counters), direct_(direct) {}

    // Consumes pkts[0..n): the ones to send are written to tx (returns how many), the rest are freed.
    // Pass 1 recognises the common case (untagged IPv4 TCP/UDP to a scheduled VIP port, no fragment, no options)
    // inline, hashes it and prefetches its bucket entry; pass 2 looks the buckets up and rewrites. Everything else
    // goes through the full classifier exactly as before.
    template <class Hash>
    uint16_t process(const Hash& hash, rte_mbuf** pkts, uint16_t n, rte_mbuf** tx, Clock clock) {
        uint32_t bucket[kMaxBurst];
        bool fast[kMaxBurst];
        rte_mbuf* dropped[kMaxBurst];
        uint16_t ntx = 0;
        uint16_t ndrop = 0;
        uint64_t rx_bytes = 0;
        constexpr uint16_t kPrefetchAhead = 3;
        for (uint16_t i = 0; i < n && i < kPrefetchAhead; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
        for (uint16_t i = 0; i < n; ++i) {
            if (i + kPrefetchAhead < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetchAhead], void*));
            rte_mbuf* m = pkts[i];
            rx_bytes += rte_pktmbuf_pkt_len(m);
            uint32_t ip;
            uint16_t port;
            fast[i] = pkt::fast_forward_key(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m), cfg_, ip, port);
            if (fast[i]) {
                bucket[i] = hash(ip, port);
                table_.prefetch(bucket[i]);
            }
        }
        counters_.rx.add(n);
        counters_.rx_bytes.add(rx_bytes);
        uint64_t fwd = 0, fwd_bytes = 0;
        for (uint16_t i = 0; i < n; ++i) {
            rte_mbuf* m = pkts[i];
            if (fast[i]) {
                const uint16_t node = table_.lookup_or_assign(bucket[i], clock.now_s);
                if (node != kUnassigned) {
                    NodeSlot& slot = table_.node_mut(node);
                    pkt::rewrite_macs(rte_pktmbuf_mtod(m, uint8_t*), slot.eth0_mac, cfg_.port_mac);
                    slot.packets.add();
                    slot.bytes.add(rte_pktmbuf_pkt_len(m));
                    ++fwd;
                    fwd_bytes += rte_pktmbuf_pkt_len(m);
                    tx[ntx++] = m;
                    continue;
                }
                counters_.drop(pkt::Drop::no_node);
                dropped[ndrop++] = m;
                continue;
            }
            if (handle(hash, m, clock)) {
                tx[ntx++] = m;
            } else {
                dropped[ndrop++] = m;
            }
        }
        counters_.forwarded.add(fwd);
        counters_.forwarded_bytes.add(fwd_bytes);
        if (ndrop > 0) rte_pktmbuf_free_bulk(dropped, ndrop);
        return ntx;
    }

private:
    // True when the frame is to be sent (rewritten in place), false when it was counted as a drop.
    template <class Hash>
    bool handle(const Hash& hash, rte_mbuf* m, Clock clock) {
        uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
        // Frames arrive in one segment: the pool's buffers hold a full 1500-byte MTU frame and scatter is off.
        const pkt::Classified c = pkt::classify(frame, rte_pktmbuf_data_len(m), cfg_);
        uint16_t node = kUnassigned;
        switch (c.action) {
            case pkt::Action::forward:
                node = pick(c, hash(c.key_ip, c.key_port), clock.now_s, true);
                if (node == kUnassigned) return drop(pkt::Drop::no_node);
                break;
            case pkt::Action::forward_first_fragment:
                node = pick(c, hash(c.key_ip, c.key_port), clock.now_s, true);
                if (node == kUnassigned) return drop(pkt::Drop::no_node);
                fragments_.remember(c.frag, node, clock.now_ms);
                counters_.fragments_first.add();
                break;
            case pkt::Action::forward_later_fragment:
                node = fragments_.find(c.frag, clock.now_ms);
                if (node == kUnassigned) return drop(pkt::Drop::fragment_unmatched);
                counters_.fragments_later.add();
                break;
            case pkt::Action::forward_icmp_error:
                // Never assigns: an error about a connection nobody owns has nowhere useful to go.
                node = pick(c, hash(c.key_ip, c.key_port), clock.now_s, false);
                if (node == kUnassigned) return drop(pkt::Drop::icmp_error_unmatched);
                counters_.icmp_errors_steered.add();
                break;
            case pkt::Action::arp_reply:
                pkt::make_arp_reply(frame, c.l3_offset, cfg_.port_mac);
                counters_.arp_replies.add();
                return true;
            case pkt::Action::echo_reply:
                pkt::make_echo_reply(frame, c.l3_offset, cfg_.port_mac);
                counters_.echo_replies.add();
                return true;
            case pkt::Action::drop:
                return drop(c.drop);
        }
        NodeSlot& slot = table_.node_mut(node);
        pkt::rewrite_macs(frame, slot.eth0_mac, cfg_.port_mac);
        slot.packets.add();
        slot.bytes.add(rte_pktmbuf_pkt_len(m));
        counters_.forwarded.add();
        counters_.forwarded_bytes.add(rte_pktmbuf_pkt_len(m));
        return true;
    }

    // The VIP's node for `bucket` (assigning one when `assign`), or the direct IP's (direct_ips.hpp).
    uint16_t pick(const pkt::Classified& c, uint32_t bucket, uint32_t now_s, bool assign) {
        if (c.direct == 0) return assign ? table_.lookup_or_assign(bucket, now_s) : table_.owner(bucket);
        if (!direct_ || c.direct > direct_->count()) return kUnassigned;
        const uint8_t slot = static_cast<uint8_t>(c.direct - 1);
        const uint16_t node = direct_->route(slot, table_, bucket, now_s, assign);
        if (node != kUnassigned && node != direct_->slot(slot).node) counters_.direct_taken_over.add();
        return node;
    }

    bool drop(pkt::Drop reason) {
        counters_.drop(reason);
        return false;
    }

    BucketTable& table_;
    FragmentTable& fragments_;
    const pkt::ClassifierConfig& cfg_;
    LcoreCounters& counters_;
    DirectIps* direct_;
};

}  // namespace dlba::sched
