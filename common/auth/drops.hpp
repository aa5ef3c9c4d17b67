// Why a peer message was dropped, counted per reason (read by the monitoring threads), with the last offender
// kept for operators: "a node with a wrong key" shows up as bad_mac from its address.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace dlba::auth {

enum class Drop : uint8_t {
    unsigned_message,  // not an envelope at all (an old peer, a stray datagram, garbage), or a malformed one
    bad_mac,           // signed with no key we hold (unknown key, wrong key, altered bytes)
    stale,             // outside the replay window
    replayed,          // seen before, or an answer to another request, or a kind out of place
    unknown_sender,    // not from a configured node's eth0 address, or a node id that is not that address's
};
constexpr size_t kDropReasons = 5;
const char* drop_name(Drop d);

struct LastDrop {
    Drop reason = Drop::unsigned_message;
    uint32_t from_ip = 0;  // host order
    uint16_t sender = 0;   // as claimed (0 when unknown)
    uint64_t unix_s = 0;
};

class DropCounters {
public:
    void count(Drop d, uint32_t from_ip, uint16_t sender, uint64_t unix_s);
    uint64_t get(Drop d) const { return counts_[static_cast<size_t>(d)].load(std::memory_order_relaxed); }
    uint64_t total() const;
    LastDrop last() const;  // meaningful when total() > 0

private:
    std::array<std::atomic<uint64_t>, kDropReasons> counts_{};
    mutable std::mutex last_mutex_;
    LastDrop last_;
};

// At most one line per reason per interval, saying how many were suppressed in between.
class DropLog {
public:
    DropLog(std::string who, uint64_t interval_s) : who_(std::move(who)), interval_s_(interval_s) {}
    void note(Drop d, const std::string& what, uint64_t unix_s);

private:
    std::string who_;
    uint64_t interval_s_;
    std::mutex mutex_;
    std::array<uint64_t, kDropReasons> next_{};
    std::array<uint64_t, kDropReasons> suppressed_{};
};

}  // namespace dlba::auth
