#include "config/array_section.hpp"

#include "config/reader.hpp"

namespace dlba {

ArraySection read_array_section(const ConfigReader& in, const libconfig::Setting& root) {
    ArraySection out;
    const libconfig::Setting& array = in.group(root, "array", true);
    in.only_keys(array, {"name", "vip", "tcp_ports", "udp_ports"});
    out.name = in.text(array, "name", std::string("dlba"));
    out.vip = in.host_ipv4(array, "vip");
    out.tcp_ports = in.ports(array, "tcp_ports");
    out.udp_ports = in.ports(array, "udp_ports");
    if (out.tcp_ports.empty() && out.udp_ports.empty()) {
        in.refuse(array, "'array' needs at least one port in tcp_ports or udp_ports");
    }
    return out;
}

}  // namespace dlba
