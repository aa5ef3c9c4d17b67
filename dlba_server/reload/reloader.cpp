#include "reload/reloader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <variant>

#include "clock.hpp"
#include "net/listen_socket.hpp"
#include "tls/backend_tls.hpp"
#include "tls/providers.hpp"

namespace dlba::server {

namespace {

// Workers take a new generation within one loop turn (they are woken for it), so this is only reached when one is
// stuck; it stays under the 2 s dlbad gives the server's answer to `reload` after a config push.
constexpr auto kAdoptWait = std::chrono::milliseconds(1000);

std::string join(const std::vector<std::string>& parts, const char* sep) {
    std::string out;
    for (const std::string& p : parts) {
        if (!out.empty()) out += sep;
        out += p;
    }
    return out;
}

}  // namespace

std::optional<Config> load_server_config(const std::string& path, int node, const Overrides& overrides,
                                         std::string* err) {
    ConfigResult loaded = load_config(path);
    if (const auto* e = std::get_if<ConfigError>(&loaded)) {
        *err = e->str();
        return std::nullopt;
    }
    Config config = std::get<Config>(std::move(loaded));
    if (!config.server) {
        *err = path + ": no 'server' section (listeners, timeouts, limits)";
        return std::nullopt;
    }
    if (node >= 0 && !config.node(static_cast<uint16_t>(node))) {
        *err = path + ": node " + std::to_string(node) + " is not in the file";
        return std::nullopt;
    }
    if (!overrides.monitor_socket.empty()) config.server->monitor_socket = overrides.monitor_socket;
    if (overrides.workers >= 0) config.server->workers = static_cast<uint32_t>(overrides.workers);
    return config;
}

bool load_tls(const Config& config, bool apply, std::shared_ptr<const TlsContext>* out, std::string* err) {
    out->reset();
    // The provider first: the contexts below fetch their algorithms from what is loaded.
    if (config.tls && !load_providers(*config.tls, config.source, apply, err)) return false;
    bool any_tls = false;
    for (const ListenerConfig& l : config.server->listeners) any_tls = any_tls || l.tls;
    if (!any_tls) return true;
    // Always built afresh, even when the settings did not change: a renewed certificate usually keeps its path.
    std::unique_ptr<TlsContext> tls = TlsContext::create(*config.tls, config.source, err);
    if (!tls) return false;
    *out = std::move(tls);
    return true;
}

// Checked at start, check-reload and push alike: an unreadable CA, certificate or key refuses the file.
bool load_backend_tls(const Config& config, std::vector<std::shared_ptr<const BackendTlsContext>>* out,
                      std::string* err) {
    out->assign(config.backends.size(), nullptr);
    for (size_t b = 0; b < config.backends.size(); ++b) {
        const BackendConfig& bc = config.backends[b];
        if (!bc.tls.enabled) continue;
        std::unique_ptr<BackendTlsContext> c = BackendTlsContext::create(bc.tls, bc.address, config.source, err);
        if (!c) return false;
        (*out)[b] = std::move(c);
    }
    return true;
}

Reloader::Reloader(std::string config_path, uint16_t node, Overrides overrides, Shared& shared,
                   std::vector<Worker*> workers)
    : config_path_(std::move(config_path)),
      node_(node),
      overrides_(std::move(overrides)),
      shared_(shared),
      workers_(std::move(workers)) {}

bool Reloader::prepare(Config config, bool apply, Prepared* out, std::string* err) const {
    const std::shared_ptr<const Generation> running = shared_.current();
    if (running) {
        // What only a restart changes keeps its running value in the new generation (that is what is in force).
        out->restart_only = restart_only_changes(running->server(), *config.server);
        config.server->workers = running->server().workers;
        config.server->monitor_socket = running->server().monitor_socket;
    }
    if (config.services.size() > UINT16_MAX) {  // a session keeps its service's index in 16 bits
        *err = config.source + ": more than 65535 services";
        return false;
    }
    std::shared_ptr<const TlsContext> tls;
    if (!load_tls(config, apply, &tls, err)) return false;
    std::vector<std::shared_ptr<const BackendTlsContext>> backend_tls;
    if (!load_backend_tls(config, &backend_tls, err)) return false;

    static const std::vector<ListenerConfig> kNone;
    const std::vector<ListenerConfig>& before = running ? running->server().listeners : kNone;
    const std::vector<ListenerConfig>& after = config.server->listeners;
    out->listeners = diff_listeners(before, after);
    // Every socket is bound before any listens: a refused reload then leaves no connection in a queue of its own.
    const size_t per_listener = apply ? workers_.size() : 1;
    std::vector<std::vector<NewListener>> sockets(per_listener);
    for (size_t a : out->listeners.added) {
        const ListenerKey key = key_of(after[a]);
        for (size_t w = 0; w < per_listener; ++w) {
            io::Fd fd = bind_listener(key, err);
            if (!fd) return false;
            sockets[w].push_back({key, std::move(fd)});
        }
    }
    if (!apply) return true;  // the test sockets close here
    for (auto& list : sockets) {
        for (NewListener& l : list) {
            if (!start_listening(l.fd.get(), l.key, err)) return false;
        }
    }

    std::shared_ptr<io::Fd> access_log;
    int access_log_fd = -1;
    const std::string& log_path = config.server->access_log;
    if (log_path == "stderr") {
        access_log_fd = STDERR_FILENO;
    } else if (!log_path.empty()) {
        access_log = std::make_shared<io::Fd>(open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
        if (!*access_log) {
            *err = config.source + ": access log " + log_path + ": " + std::strerror(errno);
            return false;
        }
        access_log_fd = access_log->get();
    }

    const uint64_t number = running ? running->number + 1 : 1;
    out->next = std::make_shared<Generation>(std::move(config), node_, shared_.workers, number,
                                             static_cast<int64_t>(clock::unix_s()), running.get());
    out->next->tls = std::move(tls);
    out->next->backend_tls = std::move(backend_tls);
    out->next->access_log = std::move(access_log);
    out->next->access_log_fd = access_log_fd;
    out->sockets = std::move(sockets);
    return true;
}

bool Reloader::publish(Prepared& p) {
    const std::shared_ptr<const Generation> running = shared_.current();
    for (size_t w = 0; w < workers_.size(); ++w) workers_[w]->hand_listeners(std::move(p.sockets[w]));
    if (running) carry_settings(*p.next, *running);
    const uint64_t number = p.next->number;
    shared_.publish(std::move(p.next));
    for (Worker* w : workers_) w->wake();
    const auto deadline = std::chrono::steady_clock::now() + kAdoptWait;
    while (true) {
        bool all = true;
        for (Worker* w : workers_) all = all && (!w->running() || w->adopted_generation() >= number);
        if (all) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

bool Reloader::start(Config config, std::string* err) {
    Prepared p;
    if (!prepare(std::move(config), true, &p, err)) return false;
    publish(p);
    return true;
}

ReloadOutcome Reloader::reload() {
    const std::shared_ptr<const Generation> running = shared_.current();
    const std::string refused = "configuration refused, the running one stays (generation " +
                                std::to_string(running->number) + "): ";
    std::string err;
    std::optional<Config> config = load_server_config(config_path_, node_, overrides_, &err);
    Prepared p;
    if (!config || !prepare(std::move(*config), true, &p, &err)) {
        ++refused_;
        return {false, refused + err};
    }
    size_t added = 0, kept = 0;
    for (const auto& c : p.next->continues) (c ? kept : added) += 1;
    const size_t removed = running->backends.size() - kept;
    const uint64_t number = p.next->number;
    const ListenerDiff diff = p.listeners;
    const std::vector<std::string> restart_only = p.restart_only;
    const bool everywhere = publish(p);

    std::string m = "configuration reloaded: generation " + std::to_string(number) + " (back ends: " +
                    std::to_string(added) + " added, " + std::to_string(removed) + " removed, " +
                    std::to_string(kept) + " kept; listeners: " + std::to_string(diff.added.size()) + " added, " +
                    std::to_string(diff.removed.size()) + " removed, " + std::to_string(diff.kept.size()) +
                    " kept)";
    if (!restart_only.empty()) m += "; needs a restart to apply: " + join(restart_only, ", ");
    if (!everywhere) m += "; some workers have not switched yet (busy for over 1 s)";
    return {true, m};
}

ReloadOutcome Reloader::check(const std::string& path) const {
    std::string err;
    std::optional<Config> config = load_server_config(path, node_, overrides_, &err);
    Prepared p;
    if (!config || !prepare(std::move(*config), false, &p, &err)) return {false, err};
    std::string m = "dlba-server (node " + std::to_string(node_) + ") can take " + path;
    if (!p.restart_only.empty()) m += "; needs a restart to apply: " + join(p.restart_only, ", ");
    return {true, m};
}

}  // namespace dlba::server
