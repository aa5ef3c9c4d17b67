// services[].cdn: CDN URL rewriting ("speederizing", seed 003). In identity-encoded text/html answers of the
// service, src/href URLs on the site's own host whose path matches one of `match` are rewritten to `host`.
#pragma once

#include <string>
#include <vector>

namespace libconfig {
class Setting;
}

namespace dlba {

class ConfigReader;

struct CdnConfig {
    bool enabled = false;
    std::string host;                 // "cdn.example.net": URLs become "//cdn.example.net/<path>"
    std::vector<std::string> match;   // POSIX extended regular expressions over the URL's path (no query)
};

// Absent: not enabled. `host` must be a host name (optionally with :port), `match` a non-empty list of patterns
// that compile (http/url_patterns.hpp); anything else is refused with file:line.
CdnConfig read_service_cdn(const ConfigReader& in, const libconfig::Setting& service);

}  // namespace dlba
