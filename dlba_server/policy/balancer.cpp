#include "policy/balancer.hpp"

#include <numeric>

#include "http/cookie.hpp"
#include "http/url_session.hpp"

namespace dlba::server {

const char* choice_reason_name(ChoiceReason r) {
    switch (r) {
        case ChoiceReason::none: return "none";
        case ChoiceReason::cookie: return "cookie";
        case ChoiceReason::cookie_rerouted: return "cookie_rerouted";
        case ChoiceReason::session_id: return "session_id";
        case ChoiceReason::url_hash: return "url_hash";
        case ChoiceReason::least_conn: return "least_conn";
        case ChoiceReason::response_time: return "response_time";
        case ChoiceReason::queue: return "queue";
        case ChoiceReason::tls_session: return "tls_session";
        case ChoiceReason::round_robin: return "round_robin";
        case ChoiceReason::pin: return "pin";
    }
    return "?";
}

namespace {

std::vector<http::WeightedBackend> weighted(const ServiceConfig& service, const std::vector<BackendConfig>& all) {
    std::vector<http::WeightedBackend> out;
    for (size_t i : service.backends) out.push_back({all[i].key, all[i].weight});
    return out;
}

}  // namespace

Balancer::Balancer(const ServiceConfig& service, const std::vector<BackendConfig>& backends)
    : service_(service), hash_(weighted(service, backends)) {
    for (size_t i : service.backends) keys_.push_back(backends[i].key);
}

Choice Balancer::choose(const RequestKeys& request, const Candidates& c, uint32_t rotation) const {
    // A valid pin decides while its back end takes requests that name it; one that cannot (down, out of service,
    // failed for this request) leaves the request to the policy, and the answer re-pins (net/backend_exchange_pin.cpp).
    if (request.pinned && *request.pinned < c.usable_sticky.size() && c.usable_sticky[*request.pinned]) {
        return {request.pinned, ChoiceReason::pin, false};
    }
    switch (service_.policy) {
        case BalancePolicy::cookie: {
            // The first injected cookie that names one of our back ends decides, if that back end can take the
            // request. A client may carry several (another path or domain set one too), so look at all of them
            // before giving up on persistence.
            bool named_unusable = false;
            std::optional<size_t> found;
            for (const http::Header& h : request.headers) {
                if (!http::iequals(h.name, "cookie")) continue;
                http::for_each_cookie(h.value, [&](const http::CookiePair& pair) {
                    if (pair.name != service_.inject_cookie) return true;
                    const auto index = http::find_server_key(pair.value, keys_);
                    if (!index) return true;  // unknown or tampered value: as if absent
                    if (c.usable_sticky[*index]) {
                        found = index;
                        return false;
                    }
                    named_unusable = true;
                    return true;
                });
                if (found) break;
            }
            if (found) return {found, ChoiceReason::cookie, false};
            Choice fallback = by_load_or_hash(service_.fallback, request, c, rotation);
            if (named_unusable && fallback.index) {
                fallback.reason = ChoiceReason::cookie_rerouted;
                fallback.force_cookie = true;
            }
            return fallback;
        }
        case BalancePolicy::url_session: {
            const auto where =
                service_.url_session_in == SessionIdPlace::path ? http::SessionIdIn::path : http::SessionIdIn::query;
            if (const auto id = http::find_session_id(request.target, service_.url_session_param, where)) {
                // Drain keeps serving its sessions; a back end that is down loses only its own ids to their next
                // choice, and gets them back when it returns.
                if (const auto index = hash_.choose(*id, c.usable_sticky)) return {index, ChoiceReason::session_id, false};
                return {};
            }
            return by_load_or_hash(service_.fallback, request, c, rotation);
        }
        case BalancePolicy::tls_session: {
            // Outside the secure paths, and over plain HTTP (no session to bind), each request on its own.
            if (!request.tls || !is_secure_path(service_, request.target)) {
                return by_load_or_hash(service_.fallback, request, c, rotation);
            }
            bool rebind = false;
            if (!request.tls_bound_key.empty()) {
                if (const auto index = find_key(request.tls_bound_key); index && c.usable_sticky[*index]) {
                    return {index, ChoiceReason::tls_session, false, TlsBind::keep};
                }
                rebind = true;  // down, disabled, failed for this request, or gone from the service
            }
            Choice first = by_load_or_hash(service_.fallback, request, c, rotation);
            if (first.index) first.tls_bind = rebind ? TlsBind::rebind : TlsBind::bind;
            return first;
        }
        case BalancePolicy::url_hash:
        case BalancePolicy::least_conn:
        case BalancePolicy::response_time:
        case BalancePolicy::round_robin: return by_load_or_hash(service_.policy, request, c, rotation);
    }
    return {};
}

std::optional<size_t> Balancer::choose_unbound(const Candidates& c, uint32_t rotation) const {
    return least_loaded(c, rotation, service_.fallback == BalancePolicy::response_time);
}

std::optional<size_t> Balancer::find_key(std::string_view key) const {
    for (size_t i = 0; i < keys_.size(); ++i) {
        if (keys_[i] == key) return i;
    }
    return std::nullopt;
}

bool is_secure_path(const ServiceConfig& service, std::string_view target) {
    if (service.tls_session_paths.empty()) return true;
    for (const std::string& p : service.tls_session_paths) {
        if (target.substr(0, p.size()) == p) return true;
    }
    return false;
}

Choice Balancer::by_load_or_hash(BalancePolicy policy, const RequestKeys& request, const Candidates& c,
                                 uint32_t rotation) const {
    switch (policy) {
        case BalancePolicy::url_hash: {
            std::optional<size_t> index;
            if (service_.hash_bound_load >= 1) {
                index = hash_.choose_bounded(request.target, c.active, service_.hash_bound_load, c.usable_new);
            } else {
                index = hash_.choose_weighted(request.target, c.usable_new, c.weight);
            }
            return {index, index ? ChoiceReason::url_hash : ChoiceReason::none, false};
        }
        case BalancePolicy::response_time: {
            const auto index = least_loaded(c, rotation, true);
            return {index, index ? ChoiceReason::response_time : ChoiceReason::none, false};
        }
        case BalancePolicy::round_robin: {
            const auto index = weighted_turn(c, rotation);
            return {index, index ? ChoiceReason::round_robin : ChoiceReason::none, false};
        }
        case BalancePolicy::cookie:  // not a fallback (the loader refuses it); treated as least_conn
        case BalancePolicy::url_session:
        case BalancePolicy::tls_session:
        case BalancePolicy::least_conn: break;
    }
    const auto index = least_loaded(c, rotation, false);
    return {index, index ? ChoiceReason::least_conn : ChoiceReason::none, false};
}

// Lowest cost per unit of weight: (active + 1) / weight, times (average + 1 ms) when use_time. A back end with no
// average yet counts as 0 ms, so a new or revived back end gets requests and an average of its own. Ties go to the
// first back end at or after `rotation`, so equally loaded back ends take turns.
std::optional<size_t> Balancer::least_loaded(const Candidates& c, uint32_t rotation, bool use_time) const {
    const size_t n = keys_.size();
    if (n == 0) return std::nullopt;
    std::optional<size_t> best;
    double best_cost = 0;
    for (size_t k = 0; k < n; ++k) {
        const size_t i = (rotation + k) % n;
        if (!c.usable_new[i] || c.weight[i] == 0) continue;
        double cost = static_cast<double>(c.active[i] + 1) / c.weight[i];
        if (use_time) cost *= (c.average_ms[i] < 0 ? 0.0 : c.average_ms[i]) + 1.0;
        if (!best || cost < best_cost) {
            best = i;
            best_cost = cost;
        }
    }
    return best;
}

}  // namespace dlba::server

namespace dlba::server {

// Turn `rotation` of a cycle of W = the usable back ends' total weight: position rotation mod W, spread over the
// cycle by a stride prime to W (so consecutive requests do not all go to the first back end), then the back end
// whose stretch of cumulative weight holds it. Any W consecutive turns give each back end exactly its weight.
std::optional<size_t> Balancer::weighted_turn(const Candidates& c, uint32_t rotation) const {
    const size_t n = keys_.size();
    uint64_t total = 0;
    for (size_t i = 0; i < n; ++i) {
        if (c.usable_new[i]) total += c.weight[i];
    }
    if (total == 0) return std::nullopt;
    uint64_t stride = std::max<uint64_t>(1, total * 618 / 1000);
    while (std::gcd(stride, total) != 1) ++stride;
    const uint64_t point = (rotation % total) * stride % total;
    uint64_t below = 0;
    for (size_t i = 0; i < n; ++i) {
        if (!c.usable_new[i]) continue;
        below += c.weight[i];
        if (point < below) return i;
    }
    return std::nullopt;
}

}  // namespace dlba::server
