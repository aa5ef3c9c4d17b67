#include "auth/drops.hpp"

#include <cstdio>

namespace dlba::auth {

const char* drop_name(Drop d) {
    switch (d) {
        case Drop::unsigned_message: return "unsigned";
        case Drop::bad_mac: return "bad_mac";
        case Drop::stale: return "stale";
        case Drop::replayed: return "replayed";
        case Drop::unknown_sender: return "unknown_sender";
    }
    return "?";
}

void DropCounters::count(Drop d, uint32_t from_ip, uint16_t sender, uint64_t unix_s) {
    counts_[static_cast<size_t>(d)].fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(last_mutex_);
    last_ = {d, from_ip, sender, unix_s};
}

uint64_t DropCounters::total() const {
    uint64_t t = 0;
    for (const auto& c : counts_) t += c.load(std::memory_order_relaxed);
    return t;
}

LastDrop DropCounters::last() const {
    std::lock_guard<std::mutex> lock(last_mutex_);
    return last_;
}

void DropLog::note(Drop d, const std::string& what, uint64_t unix_s) {
    const size_t i = static_cast<size_t>(d);
    std::lock_guard<std::mutex> lock(mutex_);
    if (unix_s < next_[i]) {
        ++suppressed_[i];
        return;
    }
    if (suppressed_[i]) {
        std::fprintf(stderr, "<4>%s: dropped %s (%s; %llu more like it since the last line)\n", who_.c_str(),
                     what.c_str(), drop_name(d), static_cast<unsigned long long>(suppressed_[i]));
    } else {
        std::fprintf(stderr, "<4>%s: dropped %s (%s)\n", who_.c_str(), what.c_str(), drop_name(d));
    }
    suppressed_[i] = 0;
    next_[i] = unix_s + interval_s_;
}

}  // namespace dlba::auth
