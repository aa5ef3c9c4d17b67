// The 'array' section: the array's name, its VIP and the ports forwarded on it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace libconfig {
class Setting;
}

namespace dlba {

class ConfigReader;

struct ArraySection {
    std::string name = "dlba";
    uint32_t vip = 0;
    std::vector<uint16_t> tcp_ports;
    std::vector<uint16_t> udp_ports;
};

// The section is required, with at least one port.
ArraySection read_array_section(const ConfigReader& in, const libconfig::Setting& root);

}  // namespace dlba
