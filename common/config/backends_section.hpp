// The 'backends' list: the DLBA server's back ends, each named by the key the SpServer cookie carries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/backend_check_section.hpp"
#include "config/backend_tls_section.hpp"
#include "config/redirect_template.hpp"

namespace libconfig {
class Setting;
}

namespace dlba {

class ConfigReader;

struct BackendConfig {
    std::string key;  // what SpServer carries; unique, cookie-value characters only
    uint32_t address = 0;
    uint16_t port = 80;
    uint32_t weight = 1;  // 0 = never chosen
    bool enabled = true;
    uint32_t max_inflight = 0;  // requests in flight per server process (QoS: the rest wait), 0 = unlimited
    BackendTlsConfig tls;  // TLS to the back end (tls.enabled), off by default
    BackendCheckConfig check;  // active HTTP(S) health check (check.enabled), off by default
    BackendAgentConfig agent;  // load agent (agent.enabled), off by default
    // Redirect services (config/redirect_section.hpp). A back end only redirect services use needs no address
    // (it may be another site); such a back end is never connected to.
    bool has_address = true;
    std::optional<RedirectTemplate> redirect;    // `redirect = "URL template"`
    std::string backup;                          // `backup = "KEY"`: takes its requests when it is out of service
    std::optional<size_t> backup_index;          // ... resolved: index into the array's back ends
    std::optional<RedirectTemplate> backup_url;  // `backup_url = "URL template"` (instead of `backup`)
};

// The list is optional: absent, no back ends.
std::vector<BackendConfig> read_backends_section(const ConfigReader& in, const libconfig::Setting& root);
// A back-end key, written `key = 10;` or `key = "web-a";` in 'backends' and the same way in a service's list.
// It travels in a cookie, so cookie octets only.
std::string read_backend_key(const ConfigReader& in, const libconfig::Setting& s);

}  // namespace dlba
