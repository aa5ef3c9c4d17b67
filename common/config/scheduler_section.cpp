#include "config/scheduler_section.hpp"

#include "config/reader.hpp"

namespace dlba {

SchedulerConfig read_scheduler_section(const ConfigReader& in, const libconfig::Setting& root) {
    SchedulerConfig sc;
    if (!root.exists("scheduler")) return sc;
    const libconfig::Setting& s = in.group(root, "scheduler", false);
    in.only_keys(s, {"table_size", "hash", "hash_seed", "bucket_idle_timeout", "control_socket", "idle_poll",
                     "gratuitous_arp", "fragments"});
    sc.table_size = static_cast<uint32_t>(in.integer(s, "table_size", sc.table_size, 1024, 1 << 26));
    const std::string hash = in.text(s, "hash", std::string(hash_kind_name(sc.hash)));
    const auto kind = parse_hash_kind(hash);
    if (!kind) in.refuse(s["hash"], "'scheduler.hash' = \"" + hash + "\" is not one of \"mix\", \"seed_sum\"");
    sc.hash = *kind;
    sc.hash_seed = static_cast<uint64_t>(
        in.integer(s, "hash_seed", static_cast<int64_t>(sc.hash_seed & INT64_MAX), 0, INT64_MAX));
    sc.bucket_idle_timeout_s =
        static_cast<uint32_t>(in.integer(s, "bucket_idle_timeout", sc.bucket_idle_timeout_s, 1, 86400 * 7));
    sc.control_socket = in.text(s, "control_socket", sc.control_socket);
    if (sc.control_socket.empty() || sc.control_socket.size() >= 108) {
        in.refuse(s, "'scheduler.control_socket' must be a path of 1..107 characters");
    }
    if (s.exists("idle_poll")) {
        const libconfig::Setting& p = in.group(s, "idle_poll", false);
        in.only_keys(p, {"spin_polls", "sleep_min_us", "sleep_max_us", "deep_after_ms", "deep_sleep_us"});
        IdlePollConfig& idle = sc.idle_poll;
        idle.spin_polls = static_cast<uint32_t>(in.integer(p, "spin_polls", idle.spin_polls, 0, 1 << 30));
        idle.sleep_min_us = static_cast<uint32_t>(in.integer(p, "sleep_min_us", idle.sleep_min_us, 0, 100000));
        idle.sleep_max_us = static_cast<uint32_t>(in.integer(p, "sleep_max_us", idle.sleep_max_us, 0, 100000));
        if (idle.sleep_max_us < idle.sleep_min_us) {
            in.refuse(p, "'scheduler.idle_poll.sleep_max_us' is below sleep_min_us");
        }
        idle.deep_after_ms = static_cast<uint32_t>(in.integer(p, "deep_after_ms", idle.deep_after_ms, 1, 3600000));
        idle.deep_sleep_us = static_cast<uint32_t>(in.integer(p, "deep_sleep_us", idle.deep_sleep_us, 0, 100000));
        if (idle.deep_sleep_us != 0 && idle.deep_sleep_us < idle.sleep_max_us) {
            in.refuse(p, "'scheduler.idle_poll.deep_sleep_us' is below sleep_max_us (0 turns the deep sleep off)");
        }
    }
    if (s.exists("gratuitous_arp")) {
        const libconfig::Setting& g = in.group(s, "gratuitous_arp", false);
        in.only_keys(g, {"count", "interval_ms", "refresh_ms"});
        sc.garp_count = static_cast<uint32_t>(in.integer(g, "count", sc.garp_count, 0, 100));
        sc.garp_interval_ms = static_cast<uint32_t>(in.integer(g, "interval_ms", sc.garp_interval_ms, 1, 60000));
        sc.garp_refresh_ms = static_cast<uint32_t>(in.integer(g, "refresh_ms", sc.garp_refresh_ms, 0, 3600000));
    }
    if (s.exists("fragments")) {
        const libconfig::Setting& f = in.group(s, "fragments", false);
        in.only_keys(f, {"table_size", "timeout_ms"});
        sc.fragment_table_size =
            static_cast<uint32_t>(in.integer(f, "table_size", sc.fragment_table_size, 16, 1 << 22));
        sc.fragment_timeout_ms = static_cast<uint32_t>(in.integer(f, "timeout_ms", sc.fragment_timeout_ms, 1, 60000));
    }
    return sc;
}

}  // namespace dlba
