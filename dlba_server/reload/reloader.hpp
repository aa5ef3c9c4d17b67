// Configuration reload of a running dlba-server (SIGHUP, or `reload` on the monitor socket), and its dry run
// (`check-reload PATH`, which dlbad asks in its PREPARE phase so that a file some server would refuse is applied
// nowhere). Runs on the main thread only.
//
// A reload re-reads the --config file and goes through every step that can fail before anything is applied:
// parse and validate (file:line on error), this node present, a server section, the TLS certificate and key
// loaded, the access log opened (it is reopened on every reload: log rotation), and a socket bound and listening
// for every new listener for every worker. Any failure refuses the whole file and the running generation stays.
// Then the new generation is built (back ends that continue share their state, see net/shared.hpp), the new
// listening sockets are handed to the workers, the file's weights and changed enabled flags are applied to the
// continuing back ends, and the generation is published. The answer comes once every worker has adopted it
// (bounded wait), so a request sent after an ok answer is served by the new configuration.
//
// The number of workers and the monitor socket path only change with a restart: a file that changes them is
// still applied for everything else, and the answer names those settings. The command line's --workers and
// --monitor-socket keep overriding the file on every reload.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "net/shared.hpp"
#include "net/worker.hpp"
#include "reload/reload_plan.hpp"

namespace dlba::server {

// Settings the command line gives, which win over the file at start and on every reload.
struct Overrides {
    std::string monitor_socket;  // empty: the file's
    int workers = -1;            // -1: the file's
};

// Loads `path` as this server runs it: parsed and validated, node `node` present (unless node < 0), a server
// section, the overrides applied. nullopt and "file:line: reason" (or another reason naming the file) in *err.
std::optional<Config> load_server_config(const std::string& path, int node, const Overrides& overrides,
                                         std::string* err);

// The TLS context when some listener is TLS (nullptr and true when none is), after loading the configured OpenSSL
// provider (only tried, in a context of its own, unless `apply`). False and the reason in *err when the provider,
// the certificate or the key cannot be used.
bool load_tls(const Config& config, bool apply, std::shared_ptr<const TlsContext>* out, std::string* err);
// One client context per back end with tls.enabled (nullptr for the others). False and "file:line: reason" in *err
// when a CA file, client certificate or key cannot be used.
bool load_backend_tls(const Config& config, std::vector<std::shared_ptr<const BackendTlsContext>>* out,
                      std::string* err);

struct ReloadOutcome {
    bool ok = false;
    std::string message;
};

class Reloader {
public:
    Reloader(std::string config_path, uint16_t node, Overrides overrides, Shared& shared,
             std::vector<Worker*> workers);

    // Generation 1 from `config` (loaded by load_server_config): binds every listener for every worker and
    // publishes it. Before the workers start; false and the reason in *err when something cannot be set up.
    bool start(Config config, std::string* err);
    // Re-reads the --config file and applies it.
    ReloadOutcome reload();
    // Whether `path` would be taken by reload(), applying nothing (listeners are bound and closed again).
    ReloadOutcome check(const std::string& path) const;

    uint64_t refused() const { return refused_; }

private:
    struct Prepared {
        std::shared_ptr<Generation> next;
        std::vector<std::vector<NewListener>> sockets;  // per worker
        ListenerDiff listeners;
        std::vector<std::string> restart_only;
    };
    bool prepare(Config config, bool apply, Prepared* out, std::string* err) const;
    bool publish(Prepared& p);  // true when every running worker adopted it within the wait

    std::string config_path_;
    uint16_t node_;
    Overrides overrides_;
    Shared& shared_;
    std::vector<Worker*> workers_;
    uint64_t refused_ = 0;
};

}  // namespace dlba::server
