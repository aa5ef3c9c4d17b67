// DPDK's EAL, once per test process, in memory only, no devices: enough for rings (the command queue) and the
// lcore list (the counters table).
#pragma once

#include <unistd.h>

#include <stdexcept>
#include <string>
#include <vector>

#include <rte_eal.h>

namespace dlba::testing {

inline void eal_once(const char* program) {
    static const bool ready = [program] {
        const std::string prefix = "dlba-ut-" + std::to_string(getpid());
        std::vector<std::string> args = {program, "--no-huge", "--no-pci", "--no-shconf", "-m", "64",
                                         "--log-level=error", "-l", "0", "--file-prefix", prefix};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        return rte_eal_init(static_cast<int>(argv.size()), argv.data()) >= 0;
    }();
    if (!ready) throw std::runtime_error("rte_eal_init failed");
}

}  // namespace dlba::testing
