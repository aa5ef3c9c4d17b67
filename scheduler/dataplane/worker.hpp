// The data-plane poll loop on one lcore: commands from the control plane, rx burst, per-burst work, tx burst,
// gratuitous ARPs (the VIP and the direct IPs) when the role turns active or a direct IP is taken over, and a
// back-off when the port is idle.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "clock.hpp"
#include "bucket_table.hpp"
#include "command_queue.hpp"
#include "config/scheduler_section.hpp"
#include "forwarder.hpp"

namespace dlba::sched {

struct WorkerSettings {
    uint16_t port_id = 0;
    rte_mempool* pool = nullptr;  // for the gratuitous ARPs the scheduler originates
    IdlePollConfig idle;
    uint32_t garp_count = 3;
    uint32_t garp_interval_ms = 200;
    uint32_t garp_refresh_ms = 10000;  // while active, one more every so often (0 = never)
};

inline Clock read_clock() {
    const uint64_t us = clock::monotonic_us();  // vDSO: no system call
    return {static_cast<uint32_t>(us / 1000000), us / 1000};
}

class Worker {
public:
    Worker(const WorkerSettings& settings, BucketTable& table, FragmentTable& fragments, pkt::ClassifierConfig& cfg,
           LcoreCounters& counters, CommandQueue& commands, DirectIps* direct = nullptr)
        : settings_(settings), table_(table), cfg_(cfg), counters_(counters), commands_(commands), direct_(direct),
          forwarder_(table, fragments, cfg, counters, direct) {}

    template <class Hash>
    void run(const Hash& hash, const std::atomic<bool>& stop) {
        rte_mbuf* rx[kMaxBurst];
        rte_mbuf* tx[kMaxBurst];
        uint32_t empty_polls = 0;
        uint32_t sleep_us = settings_.idle.sleep_min_us;
        uint64_t quiet_since_ms = 0;  // when the loop last started to sleep (the quiet spell's start)
        while (!stop.load(std::memory_order_relaxed)) {
            apply_commands();
            const Clock clock = read_clock();
            if (direct_ && direct_->refresh(table_, clock.now_s) && cfg_.active) {
                garps_left_ = settings_.garp_count;  // a direct IP was taken over: announce the addresses again
                next_garp_ms_ = 0;
            }
            if (cfg_.active && clock.now_ms >= next_garp_ms_) {
                // A burst of announcements on becoming active, then one every refresh interval (if any).
                if (garps_left_ > 0) --garps_left_;
                const uint32_t next = garps_left_ > 0 ? settings_.garp_interval_ms : settings_.garp_refresh_ms;
                send_garp(clock.now_ms, next);
                if (garps_left_ == 0 && settings_.garp_refresh_ms == 0) next_garp_ms_ = UINT64_MAX;
            }

            const uint16_t n = rte_eth_rx_burst(settings_.port_id, 0, rx, kMaxBurst);
            counters_.polls.add();
            if (n == 0) {
                // Several schedulers, proxies and back ends share two cores in tests: an idle loop must yield.
                if (++empty_polls > settings_.idle.spin_polls && settings_.idle.sleep_max_us > 0) {
                    if (empty_polls == settings_.idle.spin_polls + 1) quiet_since_ms = clock.now_ms;
                    const bool deep = settings_.idle.deep_sleep_us > 0 &&
                                      clock.now_ms - quiet_since_ms >= settings_.idle.deep_after_ms;
                    counters_.idle_sleeps.add();
                    rte_delay_us_sleep(deep ? settings_.idle.deep_sleep_us : sleep_us);
                    sleep_us = sleep_us * 2 > settings_.idle.sleep_max_us ? settings_.idle.sleep_max_us : sleep_us * 2;
                    if (sleep_us == 0) sleep_us = 1;
                }
                continue;
            }
            empty_polls = 0;
            sleep_us = settings_.idle.sleep_min_us;
            const uint16_t ntx = forwarder_.process(hash, rx, n, tx, clock);
            transmit(tx, ntx);
        }
    }

    const std::atomic<bool>& active() const { return active_; }
    // Before run(): start as a standby that mirrors the active's table.
    void start_standby() { table_.set_mirror(true, read_clock().now_s); }
    // Before run(): start in the active role (announcing the VIP at once) without waiting for a command.
    void start_active() {
        cfg_.active = true;
        active_.store(true, std::memory_order_relaxed);
        table_.set_mirror(false, read_clock().now_s);
        garps_left_ = settings_.garp_count;
        next_garp_ms_ = 0;
    }

private:
    void apply_commands();
    void send_garp(uint64_t now_ms, uint32_t next_in_ms);
    void send_garp_for(uint32_t ip);
    bool apply_sync(const void* payload);
    void transmit(rte_mbuf** pkts, uint16_t n) {
        if (n == 0) return;
        const uint16_t sent = rte_eth_tx_burst(settings_.port_id, 0, pkts, n);
        counters_.tx.add(sent);
        if (sent < n) {
            counters_.tx_failed.add(n - sent);
            rte_pktmbuf_free_bulk(pkts + sent, n - sent);
        }
    }

    WorkerSettings settings_;
    BucketTable& table_;
    pkt::ClassifierConfig& cfg_;
    LcoreCounters& counters_;
    CommandQueue& commands_;
    DirectIps* direct_;
    Forwarder forwarder_;
    std::atomic<bool> active_{false};
    uint32_t garps_left_ = 0;
    uint64_t next_garp_ms_ = 0;
};

}  // namespace dlba::sched
