// dlbad: the node daemon (failover, status daemon, status sweep, monitoring). One per node:
//   dlbad --config FILE --node N [--scheduler-socket PATH] [--server-socket PATH] [--monitor-socket PATH] [--admin-state PATH]
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <variant>
#include <chrono>
#include <thread>
#include <vector>

#include <cerrno>
#include <cstring>
#include <unistd.h>

#include "config/config.hpp"
#include "clock.hpp"
#include "dlbad.hpp"
#include "io/log_priority.hpp"
#include "io/sd_notify.hpp"

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_hangup{false};
void on_signal(int) { g_stop.store(true); }
void on_hangup(int) { g_hangup.store(true); }

const char* kUsage =
    "usage: dlbad --config FILE --node N [--scheduler-socket PATH] [--server-socket PATH] [--monitor-socket PATH]\n"
    "             [--admin-state PATH]\n"
    "  --scheduler-socket  the local dlba-scheduler's control socket (default: scheduler.control_socket)\n"
    "  --server-socket     the local dlba-server's monitor socket (default: server.monitor_socket)\n"
    "  --monitor-socket    this daemon's monitoring socket (default: failover.monitor_socket)\n"
    "  --admin-state       the operator's admin state file (default: failover.admin_state_file)\n";

uint64_t file_id(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    uint64_t h = 1469598103934665603ULL;  // FNV-1a
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
    return h;
}

}  // namespace

int main(int argc, char** argv) {
    dlba::io::install_stderr_priorities();
    std::string config_path;
    dlba::dlbad::DaemonOptions opt;
    int node = -1;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "<3>dlbad: %s needs a value\n%s", a.c_str(), kUsage);
            return 2;
        }
        const std::string v = argv[++i];
        if (a == "--config") {
            config_path = v;
        } else if (a == "--node") {
            node = std::atoi(v.c_str());
        } else if (a == "--scheduler-socket") {
            opt.scheduler_socket = v;
        } else if (a == "--server-socket") {
            opt.server_socket = v;
        } else if (a == "--monitor-socket") {
            opt.monitor_socket = v;
        } else if (a == "--admin-state") {
            opt.admin_state_file = v;
        } else if (a == "--term") {  // internal: carried over the restart after a configuration push
            opt.initial_term = std::strtoull(v.c_str(), nullptr, 10);
        } else {
            std::fprintf(stderr, "<3>dlbad: unknown option '%s'\n%s", a.c_str(), kUsage);
            return 2;
        }
    }
    if (config_path.empty() || node < 1 || node > 255) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    const dlba::ConfigResult loaded = dlba::load_config(config_path);
    if (const auto* e = std::get_if<dlba::ConfigError>(&loaded)) {
        std::fprintf(stderr, "<3>dlbad: configuration refused: %s\n", e->str().c_str());
        return 2;
    }
    const auto& config = std::get<dlba::Config>(loaded);
    opt.node = static_cast<uint16_t>(node);
    opt.config_id = file_id(config_path);
    opt.config_path = config_path;
    if (opt.scheduler_socket.empty()) opt.scheduler_socket = config.scheduler.control_socket;
    if (opt.server_socket.empty() && config.server) opt.server_socket = config.server->monitor_socket;
    if (opt.monitor_socket.empty()) opt.monitor_socket = config.failover.monitor_socket;

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGHUP, on_hangup);
    dlba::dlbad::Dlbad daemon(config, opt);
    std::string err;
    if (!daemon.start(&err)) {
        std::fprintf(stderr, "<3>dlbad: %s\n", err.c_str());
        return 1;
    }
    std::fprintf(stderr, "dlbad[node %d]: running (scheduler %s, monitor %s)\n", node, opt.scheduler_socket.c_str(),
                 opt.monitor_socket.c_str());
    // systemd's view (io/sd_notify.hpp). A restart on a new file (SIGHUP, config push) is an exec of the same
    // process: RELOADING=1 before it, READY=1 from the new image once it runs (NotifyAccess=main holds: same pid).
    dlba::io::ServiceNotifier notifier;
    notifier.ready(daemon.service_status());
    // SIGHUP: check the file, then restart on it (keeping the term); a bad file is logged and ignored.
    std::thread hangups([&] {
        while (!g_stop.load() && !daemon.restart_requested()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            if (!g_hangup.exchange(false)) continue;
            const dlba::ConfigResult next = dlba::load_config(config_path);
            if (const auto* e = std::get_if<dlba::ConfigError>(&next)) {
                std::fprintf(stderr, "<4>dlbad[node %d]: SIGHUP: configuration refused, keeping the running one: %s\n",
                             node, e->str().c_str());
            } else {
                daemon.request_restart();
            }
        }
    });
    uint64_t status_due_ms = 0;
    bool stopping_sent = false;
    daemon.run(g_stop, [&] {  // every turn of the failover loop
        notifier.watchdog_tick();
        if (g_stop.load() && !stopping_sent) {
            stopping_sent = true;
            notifier.stopping("stopping: handing the VIP over");
        }
        if (const uint64_t now = dlba::clock::monotonic_ms(); now >= status_due_ms && !stopping_sent) {
            status_due_ms = now + 250;
            notifier.status(daemon.service_status());
        }
    });
    hangups.join();
    if (daemon.restart_requested() && !g_stop.load()) {
        // A pushed configuration was committed: start again on it, keeping the election term.
        std::vector<std::string> args;
        for (int i = 0; i < argc; ++i) {
            if (std::string(argv[i]) == "--term") {
                ++i;
                continue;
            }
            args.push_back(argv[i]);
        }
        args.push_back("--term");
        args.push_back(std::to_string(daemon.term()));
        std::vector<char*> cargs;
        for (auto& a : args) cargs.push_back(a.data());
        cargs.push_back(nullptr);
        std::fprintf(stderr, "<5>dlbad[node %d]: restarting on the new configuration\n", node);
        notifier.reloading("restarting on the new configuration");
        std::fflush(stderr);
        execv("/proc/self/exe", cargs.data());
        std::fprintf(stderr, "<3>dlbad[node %d]: cannot restart: %s\n", node, std::strerror(errno));
        return 1;
    }
    std::fprintf(stderr, "dlbad[node %d]: stopped\n", node);
    return 0;
}
