#include "config/load_section.hpp"

#include <array>
#include <string_view>

#include "config/reader.hpp"

namespace dlba {

namespace {
constexpr std::array<std::string_view, 2> kSources{"connections", "cpu"};
}  // namespace

const char* load_source_name(LoadSource s) { return s == LoadSource::cpu ? "cpu" : "connections"; }

LoadConfig read_load_section(const ConfigReader& in, const libconfig::Setting& failover) {
    LoadConfig c;
    if (!failover.exists("load")) return c;
    const libconfig::Setting& s = in.group(failover, "load", false);
    in.only_keys(s, {"source", "high_pct", "margin_pct", "hysteresis_pct"});
    c.enabled = true;
    c.source = in.choice<LoadSource>(s, "source", c.source, kSources);
    c.rule.high_pct = static_cast<uint32_t>(in.integer(s, "high_pct", c.rule.high_pct, 1, 99));
    c.rule.margin_pct = static_cast<uint32_t>(in.integer(s, "margin_pct", c.rule.margin_pct, 1, 100));
    c.rule.hysteresis_pct = static_cast<uint32_t>(in.integer(s, "hysteresis_pct", c.rule.hysteresis_pct, 0, 99));
    if (c.rule.hysteresis_pct >= c.rule.high_pct) {
        in.refuse(s.exists("hysteresis_pct") ? s["hysteresis_pct"] : s,
                  "'failover.load.hysteresis_pct' must be below high_pct (a steered node is released below "
                  "high_pct - hysteresis_pct)");
    }
    return c;
}

}  // namespace dlba
