#include "policy/routes.hpp"

namespace dlba::server {

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool host_matches(std::string_view host, std::string_view wanted_lower) {
    if (host.size() != wanted_lower.size()) return false;
    for (size_t i = 0; i < host.size(); ++i) {
        if (lower(host[i]) != wanted_lower[i]) return false;
    }
    return true;
}

}  // namespace

std::string_view host_without_port(std::string_view host) {
    const size_t colon = host.rfind(':');
    if (colon == std::string_view::npos || host.back() == ']') return host;
    return host.substr(0, colon);
}

std::string_view raw_path(std::string_view target) {
    if (!target.empty() && target[0] == '/') return target;
    const size_t scheme = target.find("://");
    if (scheme == std::string_view::npos) return {};
    const size_t slash = target.find('/', scheme + 3);
    return slash == std::string_view::npos ? std::string_view() : target.substr(slash);
}

std::optional<size_t> match_route(std::span<const RouteConfig> routes, std::string_view host, std::string_view target) {
    if (routes.empty()) return std::nullopt;
    const std::string_view h = host_without_port(host);
    const std::string_view path = raw_path(target);
    for (size_t i = 0; i < routes.size(); ++i) {
        const RouteConfig& r = routes[i];
        if (!r.host_lower.empty() && !host_matches(h, r.host_lower)) continue;
        if (!r.path_prefix.empty() && !path.starts_with(r.path_prefix)) continue;
        return i;
    }
    return std::nullopt;
}

}  // namespace dlba::server
