// The 'metrics' section: dlbad's Prometheus endpoint (scheduler/dlbad/metrics_endpoint.hpp) and the DLBA server's
// response-time histogram.
//
//   metrics = { listen = ":9100"; histogram = true; };
//
// `listen` is "IP:PORT"; with the address left out (":9100") each node listens on its own eth0 IP, so one file
// serves every node. Absent, or listen = "", there is no endpoint (the default).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace libconfig {
class Setting;
}

namespace dlba {

class ConfigReader;

struct MetricsListen {
    std::optional<uint32_t> ip;  // none: the node's eth0 IP
    uint16_t port = 0;
};

struct MetricsConfig {
    std::optional<MetricsListen> listen;  // none: no endpoint
    // The DLBA server keeps a response-time histogram per back end (per worker, merged on scrape). Off only to
    // measure what it costs (BENCHMARKS.md); the metrics then have no dlba_backend_response_seconds.
    bool histogram = true;
};

// "IP:PORT" or ":PORT" (port 1..65535); nullopt when it is neither.
std::optional<MetricsListen> parse_metrics_listen(std::string_view text);

// The section is optional: absent, every default applies.
MetricsConfig read_metrics_section(const ConfigReader& in, const libconfig::Setting& root);

}  // namespace dlba
