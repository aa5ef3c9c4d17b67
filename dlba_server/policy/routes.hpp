// Which of a listener's routes (config/routes_section.hpp) takes a request: the first whose host and path prefix
// both match. Pure and allocation-free: it compares string views with the lower-cased hosts the loader prepared.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "config/routes_section.hpp"
#include "counter.hpp"

namespace dlba::server {

// What the `routes` table shows per route, kept per worker (one writer each, a cache line each).
struct alignas(64) RouteCounters {
    Counter hits;       // requests the route matched
    Counter overflows;  // ... of which went to its overflow service (every back end of its service unusable or full)
};

// "web.example:8443" -> "web.example"; "[2001:db8::1]:443" -> "[2001:db8::1]".
std::string_view host_without_port(std::string_view host);

// The path of a request target as sent: origin-form as is, absolute-form ("http://h:80/p?q") from its first '/'
// after the authority ("" when it has none), anything else (authority- or asterisk-form) "".
std::string_view raw_path(std::string_view target);

// The index of the first route matching `host` (the Host header or :authority, port allowed) and `target`;
// nullopt: the listener's own service takes it.
std::optional<size_t> match_route(std::span<const RouteConfig> routes, std::string_view host, std::string_view target);

}  // namespace dlba::server
