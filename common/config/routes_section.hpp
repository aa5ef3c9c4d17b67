// A listener's 'routes' list: URI-dedicated back-end groups (seed 004). Each route sends the requests whose Host
// and path prefix match to its own service, first match wins; the listener's `service` takes the rest. A route's
// `overflow` service takes its requests when every back end of the route's service is down, out of service or at
// max_inflight; without it such a request is answered 503, never sent to the listener's default service.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "config/services_section.hpp"

namespace libconfig {
class Setting;
}

namespace dlba {

class ConfigReader;

struct RouteConfig {
    std::string host;         // as written ("" = any host); compared without the port, case-insensitively
    std::string host_lower;   // `host` in lower case, so the per-request compare needs no copy
    std::string path_prefix;  // "" = any path; compared on the raw request path, case-sensitively, undecoded
    std::string service;
    size_t service_index = 0;
    std::string overflow;                  // "" = none
    std::optional<size_t> overflow_index;  // into the services list
    int line = 0;                          // where the route was written, for the tables and error messages
};

// The listener group's optional 'routes' list (absent: none). At most 64 routes per listener.
std::vector<RouteConfig> read_listener_routes(const ConfigReader& in, const libconfig::Setting& listener,
                                              const std::vector<ServiceConfig>& services);

}  // namespace dlba
