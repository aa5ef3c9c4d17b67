// Fuzzes the configuration loader (common/config: parse_config, the same code as load_config on text in memory)
// with libconfig text: the file every daemon reads at start and on reload, and the one a config push hands to
// every node. Invariants: a refusal names the file, a line >= 0 and a reason, in one "file:line: reason" line; a
// file is read the same way twice (no hidden state); an accepted file is consistent: at least one port on a
// non-zero VIP, node numbers 1..255 and unique, found by node(), none using the VIP as its own address, a table
// size in range, timings the election can run with.
#include <cstdint>
#include <set>
#include <string>
#include <variant>

#include "bucket_table.hpp"
#include "config/config.hpp"
#include "fuzz_check.hpp"

using namespace dlba;

namespace {

const std::string kName = "fuzz.conf";

void check_config(const Config& c) {
    FUZZ_CHECK(c.source == kName);
    FUZZ_CHECK(c.vip != 0);
    FUZZ_CHECK(!c.tcp_ports.empty() || !c.udp_ports.empty());
    FUZZ_CHECK(!c.nodes.empty() && c.nodes.size() <= kMaxNodeNumber);
    std::set<uint16_t> numbers;
    for (const NodeConfig& n : c.nodes) {
        FUZZ_CHECK(n.number >= 1 && n.number <= kMaxNodeNumber);
        FUZZ_CHECK(numbers.insert(n.number).second);
        FUZZ_CHECK(c.node(n.number) == &n);
        FUZZ_CHECK(n.eth0_ip != c.vip && n.sched_ip != c.vip);
    }
    FUZZ_CHECK(c.node(0) == nullptr);
    FUZZ_CHECK(c.scheduler.table_size >= kMinTableSize && c.scheduler.table_size <= kMaxTableSize);
    FUZZ_CHECK(c.failover.heartbeat_interval_ms > 0);
}

std::string summary(const ConfigResult& r) {
    if (const auto* e = std::get_if<ConfigError>(&r)) return "error " + e->str();
    const Config& c = std::get<Config>(r);
    std::string s = "ok " + c.name + " " + std::to_string(c.vip) + " " + std::to_string(c.nodes.size()) + " " +
                    std::to_string(c.scheduler.table_size) + " " + std::to_string(c.tcp_ports.size());
    for (const NodeConfig& n : c.nodes) s += " " + std::to_string(n.number) + "/" + std::to_string(n.eth0_ip);
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const ConfigResult r = parse_config(text, kName);
    if (const auto* e = std::get_if<ConfigError>(&r)) {
        FUZZ_CHECK(!e->file.empty());
        FUZZ_CHECK(e->line >= 0);
        FUZZ_CHECK(!e->reason.empty());
        const std::string line = e->str();
        FUZZ_CHECK(line.compare(0, e->file.size(), e->file) == 0);
    } else {
        check_config(std::get<Config>(r));
    }
    FUZZ_CHECK(summary(parse_config(text, kName)) == summary(r));
    return 0;
}
