// The node's own load for the heartbeat (failover.load): on its own thread, twice a second, so a slow local server
// never holds up the failover loop.
//
//   connections  the local DLBA server's connections_open (its status table) over server.max_connections
//   cpu          the node's busy share of all CPU time in /proc/stat between the last two samples (~1 s apart)
//
// Not known (the heartbeat says so) when load steering is off, the server does not answer, or /proc/stat cannot be
// read.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "config/load_section.hpp"
#include "local_link.hpp"
#include "time_source.hpp"

namespace dlba::dlbad {

// The first line of /proc/stat ("cpu  user nice system idle iowait irq softirq steal ..."): total and idle jiffies.
struct CpuTimes {
    uint64_t total = 0;
    uint64_t idle = 0;  // idle + iowait
};
std::optional<CpuTimes> parse_proc_stat(const std::string& text);
// The busy share between two readings, in percent 0..100; none when no time passed.
std::optional<uint32_t> busy_pct(const CpuTimes& before, const CpuTimes& after);
// The open-connections share: open / max in percent, capped at 100; none without a maximum.
std::optional<uint32_t> connections_pct(uint64_t open, uint32_t max_connections);
// connections_open from a server's status table (its "counter"/"value" rows), none when it is not there.
std::optional<uint64_t> open_connections_of(const std::string& status_table);

class LoadMeter {
public:
    LoadMeter(const LoadConfig& config, uint32_t max_connections, LocalLink& link, const TimeSource& time);
    ~LoadMeter();

    void start();  // its thread; does nothing when load steering is off
    void request_stop() { stop_.store(true); }
    void join();

    void sample_once();  // the thread's step (public for the tests)
    std::optional<uint32_t> load_pct() const;  // any thread

private:
    const LoadConfig config_;
    const uint32_t max_connections_;
    LocalLink& link_;
    const TimeSource& time_;
    std::optional<CpuTimes> last_cpu_;
    uint64_t last_cpu_ms_ = 0;
    std::atomic<uint32_t> load_{kUnknown};
    std::atomic<bool> stop_{false};
    std::thread thread_;

    static constexpr uint32_t kUnknown = UINT32_MAX;
};

}  // namespace dlba::dlbad
