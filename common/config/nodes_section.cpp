#include "config/nodes_section.hpp"

#include <set>
#include <string>

#include "config/reader.hpp"

namespace dlba {

std::vector<NodeConfig> read_nodes_section(const ConfigReader& in, const libconfig::Setting& root, uint32_t vip) {
    std::vector<NodeConfig> out;
    if (!root.exists("nodes")) in.refuse(root, "missing list 'nodes' (one entry per array node)");
    const libconfig::Setting& list = root["nodes"];
    if (!list.isList()) in.refuse(list, "'nodes' must be a list ( {...}, {...} )");
    if (list.getLength() == 0) in.refuse(list, "'nodes' is empty");
    std::set<uint16_t> numbers;
    std::set<uint32_t> ips;
    std::set<std::string> macs;
    size_t direct_ips = 0;
    for (int i = 0; i < list.getLength(); ++i) {
        const libconfig::Setting& n = list[i];
        if (!n.isGroup()) in.refuse(n, "each entry of 'nodes' must be a group { number = ...; ... }");
        in.only_keys(n, {"number", "eth0_mac", "eth0_ip", "sched_mac", "sched_ip", "weight", "enabled", "priority",
                        "direct_ip"});
        NodeConfig node;
        node.number = static_cast<uint16_t>(in.integer(n, "number", std::nullopt, 1, 255));
        node.eth0_mac = in.mac(n, "eth0_mac");
        node.eth0_ip = in.host_ipv4(n, "eth0_ip");
        node.sched_mac = in.mac(n, "sched_mac");
        node.sched_ip = in.host_ipv4(n, "sched_ip");
        node.weight = static_cast<uint32_t>(in.integer(n, "weight", 1, 0, 1000000));
        node.enabled = in.boolean(n, "enabled", true);
        node.priority = static_cast<uint32_t>(in.integer(n, "priority", 100, 0, 1000000));
        if (!numbers.insert(node.number).second) {
            in.refuse(n, "node number " + std::to_string(node.number) + " is used twice");
        }
        for (const uint32_t ip : {node.eth0_ip, node.sched_ip}) {
            if (ip == vip) in.refuse(n, "node " + std::to_string(node.number) + " uses the VIP as its own address");
            if (!ips.insert(ip).second) in.refuse(n, "address " + format_ipv4(ip) + " is used twice among the nodes");
        }
        for (const MacAddr& m : {node.eth0_mac, node.sched_mac}) {
            if (!macs.insert(m.str()).second) in.refuse(n, "MAC " + m.str() + " is used twice among the nodes");
        }
        if (n.exists("direct_ip")) {
            node.direct_ip = in.host_ipv4(n, "direct_ip");
            const libconfig::Setting& d = n["direct_ip"];
            const std::string what =
                "node " + std::to_string(node.number) + "'s direct_ip " + format_ipv4(node.direct_ip);
            if ((node.direct_ip >> 24) == 127) in.refuse(d, what + " is a loopback address");
            if (node.direct_ip == vip) in.refuse(d, what + " is the VIP");
            if (!ips.insert(node.direct_ip).second) in.refuse(d, what + " is already used by a node");
            if (++direct_ips > kMaxDirectIpCount) {
                in.refuse(d, "more than " + std::to_string(kMaxDirectIpCount) + " nodes have a direct_ip");
            }
        }
        out.push_back(node);
    }
    return out;
}

}  // namespace dlba
