// 'failover.load': the node's load carried in the heartbeat and the two-threshold steering (common/load_steering).
//
//   load = { source = "connections" | "cpu"; high_pct = 50; margin_pct = 20; hysteresis_pct = 10; }
//
// connections: the local DLBA server's open connections over server.max_connections; cpu: the node's busy share
// from /proc/stat over the last second. Absent: the heartbeat says "load not known" and nobody is steered.
#pragma once

#include <cstdint>

#include "load_steering.hpp"

namespace libconfig {
class Setting;
}

namespace dlba {

class ConfigReader;

enum class LoadSource : uint8_t { connections, cpu };
const char* load_source_name(LoadSource s);

struct LoadConfig {
    bool enabled = false;
    LoadSource source = LoadSource::connections;
    LoadSteeringRule rule;
};

// `failover` is the failover group; the load group is optional in it.
LoadConfig read_load_section(const ConfigReader& in, const libconfig::Setting& failover);

}  // namespace dlba
