// The array configuration: one libconfig file describes the whole array and every node loads the same file.
// Loading validates everything; a bad file is refused as a whole with file:line and a reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "bucket_hash.hpp"
#include "net_types.hpp"

namespace dlba {

struct NodeConfig {
    uint16_t number = 0;  // 1..255, the value stored in buckets
    MacAddr eth0_mac;     // kernel port: where the scheduler sends this node's packets
    uint32_t eth0_ip = 0;
    MacAddr sched_mac;    // DPDK scheduler port
    uint32_t sched_ip = 0;  // answered (ARP, ICMP echo) by the data plane itself
    uint32_t weight = 1;
    bool enabled = true;
};

struct IdlePollConfig {
    uint32_t spin_polls = 256;     // empty polls before the loop starts to sleep
    uint32_t sleep_min_us = 20;    // first sleep; doubles on every further empty poll...
    uint32_t sleep_max_us = 1000;  // ...up to this
};

struct SchedulerConfig {
    uint32_t table_size = 65536;
    HashKind hash = HashKind::mix;
    uint64_t hash_seed = 0x6a09e667f3bcc908ULL;
    uint32_t bucket_idle_timeout_s = 300;
    std::string control_socket = "/run/dlba/scheduler.sock";
    IdlePollConfig idle_poll;
    uint32_t garp_count = 3;
    uint32_t garp_interval_ms = 200;
    uint32_t fragment_table_size = 4096;
    uint32_t fragment_timeout_ms = 2000;
};

struct ArrayConfig {
    std::string source;  // file it was loaded from
    std::string name = "dlba";
    uint32_t vip = 0;
    std::vector<uint16_t> tcp_ports;
    std::vector<uint16_t> udp_ports;
    SchedulerConfig scheduler;
    std::vector<NodeConfig> nodes;

    const NodeConfig* node(uint16_t number) const;
};

struct ConfigError {
    std::string file;
    int line = 0;  // 0 when the error is not tied to a line (file missing)
    std::string reason;

    std::string str() const;  // "file:line: reason"
};

using ConfigResult = std::variant<ArrayConfig, ConfigError>;

ConfigResult load_config(const std::string& path);
// Same rules on text held in memory (tests, fuzzing, configs received over the wire); `name` stands for the file.
ConfigResult parse_config(const std::string& text, const std::string& name);

}  // namespace dlba
