#include "policy/backend_state.hpp"

namespace dlba::server {

const char* backend_status_name(BackendStatus s) {
    switch (s) {
        case BackendStatus::up: return "up";
        case BackendStatus::down: return "down";
        case BackendStatus::drain: return "drain";
        case BackendStatus::disabled: return "disabled";
    }
    return "?";
}

const char* backend_admin_name(BackendAdmin a) {
    switch (a) {
        case BackendAdmin::enabled: return "in-service";
        case BackendAdmin::disabled: return "oos";
        case BackendAdmin::maintenance: return "maintenance";
        case BackendAdmin::drain: return "sticky";
        case BackendAdmin::failed: return "failed";
    }
    return "?";
}

BackendState::BackendState(const BackendConfig& config, size_t workers)
    : config_(config),
      counters_(new BackendCounters[workers == 0 ? 1 : workers]),
      worker_count_(workers == 0 ? 1 : workers),
      admin_(static_cast<uint8_t>(config.enabled ? BackendAdmin::enabled : BackendAdmin::disabled)),
      weight_(config.weight),
      max_inflight_(config.max_inflight) {}

void BackendState::mark_down(int64_t now_ms, uint32_t interval_ms) {
    down_until_ms_.store(now_ms + interval_ms, std::memory_order_relaxed);
}

BackendStatus BackendState::status(int64_t now_ms) const {
    switch (admin()) {
        case BackendAdmin::disabled:
        case BackendAdmin::maintenance:
        case BackendAdmin::failed: return BackendStatus::disabled;
        case BackendAdmin::drain: return down(now_ms) ? BackendStatus::down : BackendStatus::drain;
        case BackendAdmin::enabled: break;
    }
    return down(now_ms) ? BackendStatus::down : BackendStatus::up;
}

double BackendState::average_ms() const { return average_ms_.load(std::memory_order_relaxed); }

void BackendState::record_response_time(double ms) {
    if (ms < 0) ms = 0;
    const double old = average_ms_.load(std::memory_order_relaxed);
    average_ms_.store(old < 0 ? ms : old + (ms - old) / 8, std::memory_order_relaxed);
}

}  // namespace dlba::server
