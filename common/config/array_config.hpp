// The array sections of the configuration file (array, scheduler, failover, nodes): all a process that does not
// serve HTTP (the scheduler) needs. No DLBA server type is visible here; config/config.hpp has the whole file.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "config/array_section.hpp"
#include "config/config_error.hpp"
#include "config/failover_section.hpp"
#include "config/metrics_section.hpp"
#include "config/nodes_section.hpp"
#include "config/scheduler_section.hpp"

namespace dlba {

struct ArrayConfig : ArraySection {
    std::string source;  // file it was loaded from
    SchedulerConfig scheduler;
    FailoverConfig failover;
    MetricsConfig metrics;  // dlbad's Prometheus endpoint, the server's histogram
    std::vector<NodeConfig> nodes;

    const NodeConfig* node(uint16_t number) const;
};

using ArrayConfigResult = std::variant<ArrayConfig, ConfigError>;

// Validates the whole file, server sections included (every node loads the same file, and a file one process
// refuses is refused by all), and keeps the array sections.
ArrayConfigResult load_array_config(const std::string& path);

}  // namespace dlba
