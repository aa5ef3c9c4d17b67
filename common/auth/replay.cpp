#include "auth/replay.hpp"

#include <cstddef>

namespace dlba::auth {

namespace {
constexpr size_t kMaxRemembered = 4096;  // per sender; a sender this busy inside one window is refused, not remembered
}

bool ReplayGuard::in_window(uint64_t counter, uint64_t now_us) const {
    const uint64_t d = counter > now_us ? counter - now_us : now_us - counter;
    return d <= window_us_;
}

Freshness ReplayGuard::one_way(uint16_t sender, uint64_t counter, uint64_t now_us) {
    if (!in_window(counter, now_us)) return Freshness::stale;
    uint64_t& high = highest_[sender];
    if (counter <= high) return Freshness::replayed;
    high = counter;
    return Freshness::fresh;
}

Freshness ReplayGuard::request(uint16_t sender, uint64_t counter, uint64_t now_us) {
    if (!in_window(counter, now_us)) return Freshness::stale;
    std::set<uint64_t>& seen = seen_[sender];
    // Forget what fell out of the window: such a counter is refused as stale from now on.
    const uint64_t oldest = now_us > window_us_ ? now_us - window_us_ : 0;
    seen.erase(seen.begin(), seen.lower_bound(oldest));
    if (seen.count(counter)) return Freshness::replayed;
    if (seen.size() >= kMaxRemembered) return Freshness::replayed;
    seen.insert(counter);
    return Freshness::fresh;
}

Freshness ReplayGuard::answer(uint64_t counter, uint64_t now_us) const {
    return in_window(counter, now_us) ? Freshness::fresh : Freshness::stale;
}

}  // namespace dlba::auth
