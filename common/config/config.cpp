#include "config/config.hpp"

#include <libconfig.h++>

#include <algorithm>
#include <functional>
#include <sstream>

#include "config/reader.hpp"

namespace dlba {

namespace {

// Issue 13: a node's direct IP is served like the VIP, so every listener on the VIP is also bound on each direct IP
// (unless the file lists that address and port itself). Every node holds the direct IPs on lo.
void add_direct_ip_listeners(ServerConfig& server, const std::vector<NodeConfig>& nodes, uint32_t vip) {
    const size_t listed = server.listeners.size();
    for (const NodeConfig& n : nodes) {
        if (n.direct_ip == 0) continue;
        for (size_t i = 0; i < listed; ++i) {
            if (server.listeners[i].address != vip) continue;
            ListenerConfig twin = server.listeners[i];
            twin.address = n.direct_ip;
            const auto same = [&](const ListenerConfig& l) { return l.address == twin.address && l.port == twin.port; };
            const bool present = std::any_of(server.listeners.begin(), server.listeners.end(), same);
            if (!present) server.listeners.push_back(std::move(twin));
        }
    }
}

// Every section in dependency order, whatever their order in the file.
Config read_sections(const ConfigReader& in, const libconfig::Setting& root) {
    Config out;
    // A section is listed here when it arrives, so a misspelt section is still refused.
    in.only_keys(root, {"array", "scheduler", "failover", "metrics", "nodes", "server", "tls", "backends", "services"});
    static_cast<ArraySection&>(out) = read_array_section(in, root);
    out.scheduler = read_scheduler_section(in, root);
    out.failover = read_failover_section(in, root);
    out.metrics = read_metrics_section(in, root);
    out.nodes = read_nodes_section(in, root, out.vip);
    // The DLBA server's: services name back ends, listeners name services and need 'tls' for TLS.
    out.backends = read_backends_section(in, root);
    out.services = read_services_section(in, root, out.backends);
    out.tls = read_tls_section(in, root);
    out.server = read_server_section(in, root, out.vip, out.services, out.tls.has_value());
    if (out.server) add_direct_ip_listeners(*out.server, out.nodes, out.vip);
    return out;
}

ConfigResult run(const std::string& name, const std::function<void(libconfig::Config&)>& read) {
    libconfig::Config cfg;
    cfg.setAutoConvert(true);  // accept 300 where an int64 is expected, and the like
    try {
        read(cfg);
    } catch (const libconfig::FileIOException&) {
        return ConfigError{name, 0, "cannot read the file"};
    } catch (const libconfig::ParseException& e) {
        return ConfigError{e.getFile() ? e.getFile() : name, e.getLine(), std::string("syntax error: ") + e.getError()};
    }
    try {
        Config out = read_sections(ConfigReader(name), cfg.getRoot());
        out.source = name;
        return out;
    } catch (const ConfigRefusal& r) {
        return r.error;
    } catch (const libconfig::SettingException& e) {
        return ConfigError{name, 0, std::string("bad setting '") + e.getPath() + "'"};
    }
}

}  // namespace

std::string ConfigError::str() const {
    std::ostringstream os;
    os << file;
    if (line > 0) os << ':' << line;
    os << ": " << reason;
    return os.str();
}

ConfigResult load_config(const std::string& path) {
    return run(path, [&](libconfig::Config& cfg) { cfg.readFile(path.c_str()); });
}

ConfigResult parse_config(const std::string& text, const std::string& name) {
    return run(name, [&](libconfig::Config& cfg) { cfg.readString(text); });
}

}  // namespace dlba
