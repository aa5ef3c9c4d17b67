#include "policy/backend_state.hpp"

namespace dlba::server {

const char* backend_status_name(BackendStatus s) {
    switch (s) {
        case BackendStatus::up: return "up";
        case BackendStatus::down: return "down";
        case BackendStatus::drain: return "drain";
        case BackendStatus::disabled: return "disabled";
        case BackendStatus::check_failed: return "check_failed";
        case BackendStatus::agent_down: return "agent_down";
        case BackendStatus::agent_maint: return "agent_maint";
        case BackendStatus::agent_drain: return "agent_drain";
    }
    return "?";
}

const char* check_failure_name(CheckFailure f) {
    switch (f) {
        case CheckFailure::none: return "none";
        case CheckFailure::refused: return "refused";
        case CheckFailure::timeout: return "timeout";
        case CheckFailure::tls: return "tls";
        case CheckFailure::closed: return "closed";
        case CheckFailure::bad_answer: return "bad_answer";
        case CheckFailure::status: return "status";
        case CheckFailure::io: return "io";
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

// The operator's disable first, then what stops everything (connect failures, the check, the agent's down and
// maint), then what stops new sessions only (the operator's drain, the agent's).
BackendStatus BackendState::status(int64_t now_ms) const {
    const BackendAdmin a = admin();
    if (a == BackendAdmin::disabled || a == BackendAdmin::maintenance || a == BackendAdmin::failed) {
        return BackendStatus::disabled;
    }
    if (down(now_ms)) return BackendStatus::down;
    if (!check_passes()) return BackendStatus::check_failed;
    if (agent_health() == http::AgentHealth::down) return BackendStatus::agent_down;
    if (agent_admin() == http::AgentAdmin::maint) return BackendStatus::agent_maint;
    if (a == BackendAdmin::drain) return BackendStatus::drain;
    if (agent_admin() == http::AgentAdmin::drain) return BackendStatus::agent_drain;
    return BackendStatus::up;
}

bool BackendState::record_check(bool ok, CheckFailure why, uint16_t status, uint32_t rise, uint32_t fall) {
    const CheckVerdict before = check_verdict();
    CheckVerdict after = before == CheckVerdict::none ? CheckVerdict::up : before;
    if (ok) {
        check_failures_ = 0;
        ++check_successes_;
        if (after == CheckVerdict::failed && check_successes_ >= rise) after = CheckVerdict::up;
    } else {
        check_successes_ = 0;
        ++check_failures_;
        last_check_failure_.store(static_cast<uint8_t>(why), std::memory_order_relaxed);
        last_check_status_.store(why == CheckFailure::status ? status : 0, std::memory_order_relaxed);
        if (after == CheckVerdict::up && check_failures_ >= fall) after = CheckVerdict::failed;
    }
    if (after == CheckVerdict::up && ok && check_successes_ >= rise) {
        // Recovered for good: the last failure is history.
        last_check_failure_.store(static_cast<uint8_t>(CheckFailure::none), std::memory_order_relaxed);
    }
    check_verdict_.store(static_cast<uint8_t>(after), std::memory_order_relaxed);
    return after != before && before != CheckVerdict::none;
}

void BackendState::clear_check() {
    check_successes_ = 0;
    check_failures_ = 0;
    last_check_failure_.store(static_cast<uint8_t>(CheckFailure::none), std::memory_order_relaxed);
    last_check_status_.store(0, std::memory_order_relaxed);
    check_verdict_.store(static_cast<uint8_t>(CheckVerdict::none), std::memory_order_relaxed);
}

std::string BackendState::check_text() const {
    const CheckVerdict v = check_verdict();
    if (v == CheckVerdict::none) return "-";
    std::string out = v == CheckVerdict::up ? "up" : "failed";
    const CheckFailure f = last_check_failure();
    if (f == CheckFailure::none) return out;
    out += v == CheckVerdict::up ? ",last=" : ":";
    if (f == CheckFailure::status) {
        out += "http_";
        out += std::to_string(last_check_status());
    } else {
        out += check_failure_name(f);
    }
    return out;
}

void BackendState::apply_agent(const http::AgentReport& r) {
    if (r.percent) agent_percent_.store(*r.percent, std::memory_order_relaxed);
    if (r.health) agent_health_.store(static_cast<uint8_t>(*r.health), std::memory_order_relaxed);
    if (r.admin) agent_admin_.store(static_cast<uint8_t>(*r.admin), std::memory_order_relaxed);
}

void BackendState::set_agent_on(bool on) {
    if (!on) {
        agent_percent_.store(100, std::memory_order_relaxed);
        agent_health_.store(static_cast<uint8_t>(http::AgentHealth::up), std::memory_order_relaxed);
        agent_admin_.store(static_cast<uint8_t>(http::AgentAdmin::ready), std::memory_order_relaxed);
    }
    agent_on_.store(on, std::memory_order_relaxed);
}

std::string BackendState::agent_text() const {
    if (!agent_on()) return "-";
    std::string out = agent_health() == http::AgentHealth::up ? "up," : "down,";
    switch (agent_admin()) {
        case http::AgentAdmin::ready: out += "ready,"; break;
        case http::AgentAdmin::drain: out += "drain,"; break;
        case http::AgentAdmin::maint: out += "maint,"; break;
    }
    out += std::to_string(agent_percent());
    out += '%';
    return out;
}

double BackendState::average_ms() const { return average_ms_.load(std::memory_order_relaxed); }

void BackendState::record_response_time(double ms) {
    if (ms < 0) ms = 0;
    const double old = average_ms_.load(std::memory_order_relaxed);
    average_ms_.store(old < 0 ? ms : old + (ms - old) / 8, std::memory_order_relaxed);
}

}  // namespace dlba::server
