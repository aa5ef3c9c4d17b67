#include "config/failover_section.hpp"

#include <set>

#include "config/reader.hpp"

namespace dlba {

namespace {

constexpr int kMaxPeerKeys = 8;

// A list of 64-hex-digit keys; each one refused at its own line.
auth::KeyRing read_peer_keys(const ConfigReader& in, const libconfig::Setting& keys) {
    if (!keys.isArray() && !keys.isList()) {
        in.refuse(keys, "'failover.peer_keys' must be a list of 64-hex-digit strings (generate one: dlbactl keygen)");
    }
    if (keys.getLength() == 0) in.refuse(keys, "'failover.peer_keys' is empty (leave it out, or give a key)");
    if (keys.getLength() > kMaxPeerKeys) in.refuse(keys, "'failover.peer_keys' holds more than 8 keys");
    std::vector<auth::PeerKey> out;
    for (int i = 0; i < keys.getLength(); ++i) {
        const libconfig::Setting& k = keys[i];
        if (k.getType() != libconfig::Setting::TypeString) in.refuse(k, "'failover.peer_keys' holds a non-string");
        std::string why;
        const auto key = auth::parse_key(static_cast<const char*>(k), &why);
        if (!key) in.refuse(k, "peer key " + std::to_string(i + 1) + ": " + why);
        for (const auto& earlier : out) {
            if (earlier == *key) in.refuse(k, "peer key " + std::to_string(i + 1) + " repeats an earlier key");
        }
        out.push_back(*key);
    }
    return auth::KeyRing(std::move(out));
}

}  // namespace

std::string FailoverConfig::auth_problem() const {
    if (!peer_keys.empty() || insecure) return "";
    return "no failover.peer_keys: peer messages would be unauthenticated (anyone on eth0 could forge heartbeats, "
           "tables and pushes); add keys (dlbactl keygen) or set failover.insecure = true explicitly";
}

FailoverConfig read_failover_section(const ConfigReader& in, const libconfig::Setting& root) {
    FailoverConfig f;
    if (!root.exists("failover")) return f;
    const libconfig::Setting& s = in.group(root, "failover", false);
    in.only_keys(s, {"sync_port", "sync_interval_ms", "journal_size", "heartbeat_port", "heartbeat_interval_ms",
                     "dead_after_ms", "probe_misses", "status_port", "config_port", "sweep_delay_ms",
                     "sweep_timeout_ms", "sweep_retries", "monitor_socket", "peer_keys", "insecure",
                     "replay_window_ms", "admin_state_file", "load"});
    f.sync_port = static_cast<uint16_t>(in.integer(s, "sync_port", f.sync_port, 1, 65535));
    f.sync_interval_ms = static_cast<uint32_t>(in.integer(s, "sync_interval_ms", f.sync_interval_ms, 10, 60000));
    f.journal_size = static_cast<uint32_t>(in.integer(s, "journal_size", f.journal_size, 16, 1 << 24));
    f.heartbeat_port = static_cast<uint16_t>(in.integer(s, "heartbeat_port", f.heartbeat_port, 1, 65535));
    f.heartbeat_interval_ms =
        static_cast<uint32_t>(in.integer(s, "heartbeat_interval_ms", f.heartbeat_interval_ms, 5, 10000));
    f.dead_after_ms = static_cast<uint32_t>(in.integer(s, "dead_after_ms", f.dead_after_ms, 10, 60000));
    f.probe_misses = static_cast<uint32_t>(in.integer(s, "probe_misses", f.probe_misses, 1, 1000));
    f.status_port = static_cast<uint16_t>(in.integer(s, "status_port", f.status_port, 1, 65535));
    f.config_port = static_cast<uint16_t>(in.integer(s, "config_port", f.config_port, 1, 65535));
    f.sweep_delay_ms = static_cast<uint32_t>(in.integer(s, "sweep_delay_ms", f.sweep_delay_ms, 0, 600000));
    f.sweep_timeout_ms = static_cast<uint32_t>(in.integer(s, "sweep_timeout_ms", f.sweep_timeout_ms, 10, 60000));
    f.sweep_retries = static_cast<uint32_t>(in.integer(s, "sweep_retries", f.sweep_retries, 0, 100));
    f.monitor_socket = in.text(s, "monitor_socket", f.monitor_socket);
    f.admin_state_file = in.text(s, "admin_state_file", f.admin_state_file);
    if (f.admin_state_file.empty()) in.refuse(s, "'failover.admin_state_file' must name a file");
    if (s.exists("peer_keys")) f.peer_keys = read_peer_keys(in, s["peer_keys"]);
    f.insecure = in.boolean(s, "insecure", f.insecure);
    f.replay_window_ms = static_cast<uint32_t>(in.integer(s, "replay_window_ms", f.replay_window_ms, 100, 600000));
    f.load = read_load_section(in, s);
    if (f.dead_after_ms <= f.heartbeat_interval_ms) {
        in.refuse(s, "'failover.dead_after_ms' must be longer than heartbeat_interval_ms");
    }
    const std::set<uint16_t> ports{f.sync_port, f.status_port, f.config_port};
    if (ports.size() != 3) in.refuse(s, "'failover.sync_port', 'status_port' and 'config_port' must differ");
    return f;
}

}  // namespace dlba
