// Per-lcore data-plane counters: written by their lcore only, summed by the control plane when asked.
// Invariants the control plane can check at any time (up to counters still in flight):
//   rx == forwarded + arp_replies + echo_replies + sum(drops)
//   tx + tx_failed == forwarded + arp_replies + echo_replies + garp_sent
#pragma once

#include <array>
#include <rte_lcore.h>

#include "counter.hpp"
#include "packet.hpp"

namespace dlba::sched {

struct alignas(64) LcoreCounters {
    Counter rx;
    Counter rx_bytes;
    Counter forwarded;
    Counter forwarded_bytes;
    Counter arp_replies;
    Counter echo_replies;
    Counter garp_sent;
    Counter fragments_first;
    Counter fragments_later;
    Counter icmp_errors_steered;
    Counter direct_taken_over;  // to a node's direct IP, forwarded to another node (the address was taken over)
    Counter tx;
    Counter tx_failed;  // refused by the port's tx queue, freed
    Counter alloc_failed;
    Counter idle_sleeps;
    Counter polls;
    std::array<Counter, pkt::kDropReasons> drops;

    void drop(pkt::Drop reason) { drops[static_cast<size_t>(reason)].add(); }
};

using CounterArray = std::array<LcoreCounters, RTE_MAX_LCORE>;

}  // namespace dlba::sched
