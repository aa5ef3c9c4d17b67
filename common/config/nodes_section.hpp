// The 'nodes' list: one entry per array node, its two ports' addresses, its weight and its election priority.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "net_types.hpp"

namespace libconfig {
class Setting;
}

namespace dlba {

class ConfigReader;

struct NodeConfig {
    uint16_t number = 0;  // 1..255, the value stored in buckets
    MacAddr eth0_mac;     // kernel port: where the scheduler sends this node's packets
    uint32_t eth0_ip = 0;
    MacAddr sched_mac;    // DPDK scheduler port
    uint32_t sched_ip = 0;  // answered (ARP, ICMP echo) by the data plane itself
    uint32_t weight = 1;
    bool enabled = true;
    uint32_t priority = 100;  // scheduler election: higher wins, then the lower node number
    uint32_t direct_ip = 0;   // optional client-facing address of this node (0: none), on lo of every node
};

// nodes[].direct_ip: at most this many in one array (the data plane's fixed table, pkt::kMaxDirectIps).
constexpr size_t kMaxDirectIpCount = 32;

// The list is required and not empty; no node may use the array's `vip` as one of its own addresses, and a
// direct_ip is a unicast address used nowhere else (VIP, any node's eth0_ip, sched_ip or direct_ip).
std::vector<NodeConfig> read_nodes_section(const ConfigReader& in, const libconfig::Setting& root, uint32_t vip);

}  // namespace dlba
