#include "config/config.hpp"

#include <libconfig.h++>

#include <functional>
#include <sstream>

#include "config/reader.hpp"

namespace dlba {

namespace {

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
