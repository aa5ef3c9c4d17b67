#include "config/backend_check_section.hpp"

#include "config/reader.hpp"

namespace dlba {

namespace {

constexpr int64_t kMinIntervalMs = 100;
constexpr int64_t kMaxIntervalMs = 3'600'000;

// Origin form as a request line carries it: '/' first, then visible ASCII only (no space, no control).
bool is_origin_path(const std::string& p) {
    if (p.empty() || p[0] != '/' || p.size() > 1024) return false;
    for (char ch : p) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x21 || c > 0x7e || c == '#') return false;
    }
    return true;
}

void refuse_timeout(const ConfigReader& in, const libconfig::Setting& g, uint32_t timeout, uint32_t interval) {
    if (timeout >= interval) {
        in.refuse(g.exists("timeout_ms") ? g["timeout_ms"] : g,
                  "'" + g.getPath() + ".timeout_ms' = " + std::to_string(timeout) + " must be less than interval_ms (" +
                      std::to_string(interval) + ")");
    }
}

}  // namespace

BackendCheckConfig read_backend_check(const ConfigReader& in, const libconfig::Setting& backend) {
    BackendCheckConfig c;
    if (!backend.exists("check")) return c;
    const libconfig::Setting& g = in.group(backend, "check", false);
    in.only_keys(g, {"path", "interval_ms", "timeout_ms", "rise", "fall", "expect_status"});
    c.enabled = true;
    c.line = static_cast<int>(g.getSourceLine());
    c.path = in.text(g, "path", std::string("/"));
    if (!is_origin_path(c.path)) {
        in.refuse(g.exists("path") ? g["path"] : g, "'" + g.getPath() + ".path' = \"" + c.path +
                                                        "\" must start with '/' and hold no space, control or '#'");
    }
    c.interval_ms = static_cast<uint32_t>(in.integer(g, "interval_ms", 2000, kMinIntervalMs, kMaxIntervalMs));
    c.timeout_ms = static_cast<uint32_t>(in.integer(g, "timeout_ms", c.interval_ms / 2, 10, kMaxIntervalMs));
    refuse_timeout(in, g, c.timeout_ms, c.interval_ms);
    c.rise = static_cast<uint32_t>(in.integer(g, "rise", 2, 1, 100));
    c.fall = static_cast<uint32_t>(in.integer(g, "fall", 3, 1, 100));
    c.expect_status = static_cast<uint16_t>(in.integer(g, "expect_status", 0, 100, 599));
    return c;
}

BackendAgentConfig read_backend_agent(const ConfigReader& in, const libconfig::Setting& backend) {
    BackendAgentConfig a;
    if (!backend.exists("agent")) return a;
    const libconfig::Setting& g = in.group(backend, "agent", false);
    in.only_keys(g, {"port", "interval_ms", "timeout_ms"});
    a.enabled = true;
    a.line = static_cast<int>(g.getSourceLine());
    a.port = static_cast<uint16_t>(in.integer(g, "port", std::nullopt, 1, 65535));
    a.interval_ms = static_cast<uint32_t>(in.integer(g, "interval_ms", 2000, kMinIntervalMs, kMaxIntervalMs));
    a.timeout_ms = static_cast<uint32_t>(in.integer(g, "timeout_ms", a.interval_ms / 2, 10, kMaxIntervalMs));
    refuse_timeout(in, g, a.timeout_ms, a.interval_ms);
    return a;
}

}  // namespace dlba
