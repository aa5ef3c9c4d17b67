// The replay window: a signed message is taken once, and only while it is fresh.
//
// One-way messages (heartbeats): per sender the highest counter taken so far; a counter at or below it is a
// replay. The counter is the sender's clock in microseconds, so a restarted sender still moves forward.
// Requests (table-sync pulls, sweep requests, config-port requests): each (sender, counter) is taken once; the
// counters seen inside the window are remembered, older ones fall outside the window anyway. Requests from one
// sender may arrive out of order (two dlbactl runs at once), so a lower counter is not a replay by itself.
// Either way a counter further than the window from our clock (behind or ahead) is stale.
//
// One owner (the thread that receives); no locking.
#pragma once

#include <cstdint>
#include <map>
#include <set>

namespace dlba::auth {

enum class Freshness { fresh, stale, replayed };

class ReplayGuard {
public:
    explicit ReplayGuard(uint64_t window_us) : window_us_(window_us) {}

    Freshness one_way(uint16_t sender, uint64_t counter, uint64_t now_us);
    Freshness request(uint16_t sender, uint64_t counter, uint64_t now_us);
    // Answers are bound to their request by its nonce; only their age is checked here.
    Freshness answer(uint64_t counter, uint64_t now_us) const;

    uint64_t window_us() const { return window_us_; }

private:
    bool in_window(uint64_t counter, uint64_t now_us) const;

    uint64_t window_us_;
    std::map<uint16_t, uint64_t> highest_;           // one-way
    std::map<uint16_t, std::set<uint64_t>> seen_;    // requests inside the window
};

}  // namespace dlba::auth
