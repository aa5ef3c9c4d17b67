// The 'scheduler' section: the bucket table, the hash, the poll loop's idling, gratuitous ARP, IP fragments.
#pragma once

#include <cstdint>
#include <string>

#include "bucket_hash.hpp"

namespace libconfig {
class Setting;
}

namespace dlba {

class ConfigReader;

struct IdlePollConfig {
    uint32_t spin_polls = 256;     // empty polls before the loop starts to sleep
    uint32_t sleep_min_us = 20;    // first sleep; doubles on every further empty poll...
    uint32_t sleep_max_us = 1000;  // ...up to this
    // A long quiet spell (no packet for deep_after_ms) sleeps deep_sleep_us at a time (0: never): an idle array
    // costs next to nothing, while light traffic (a packet at least every deep_after_ms) keeps the short sleeps.
    uint32_t deep_after_ms = 1000;
    uint32_t deep_sleep_us = 5000;
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
    uint32_t garp_refresh_ms = 10000;  // while active, one more gratuitous ARP this often (0 = never)
    uint32_t fragment_table_size = 4096;
    uint32_t fragment_timeout_ms = 2000;
};

// The section is optional: absent, every default applies.
SchedulerConfig read_scheduler_section(const ConfigReader& in, const libconfig::Setting& root);

}  // namespace dlba
