// dlba-server: the node's L7 proxy (TLS termination, HTTP/1.1, persistence, back-end selection).
//
//   dlba-server --config FILE --node N [--monitor-socket PATH] [--workers N] [--check-config]
//
// Signals: SIGTERM/SIGINT stop accepting, let in-flight requests finish (server.timeouts.shutdown_ms at most) and
// exit 0. SIGHUP is logged and ignored: a configuration change restarts the process (reload is a later issue).
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "config.hpp"
#include "io/unix_socket.hpp"
#include "net/shared.hpp"
#include "net/worker.hpp"
#include "status/monitor.hpp"

namespace {

std::atomic<int> g_signal{0};

void on_signal(int sig) { g_signal.store(sig); }

const char* kUsage =
    "usage: dlba-server --config FILE --node N [--monitor-socket PATH] [--workers N] [--check-config]\n"
    "  --config FILE          the array configuration (libconfig), the same file on every node\n"
    "  --node N               which node of the configuration this is\n"
    "  --monitor-socket PATH  overrides server.monitor_socket\n"
    "  --workers N            overrides server.workers (0 = one per core)\n"
    "  --check-config         validate the configuration (and load the TLS files) and exit\n";

struct Options {
    std::string config;
    int node = -1;
    std::string monitor_socket;
    int workers = -1;
    bool check_only = false;
};

bool parse_number(const std::string& text, long max, long& out) {
    char* end = nullptr;
    errno = 0;
    out = std::strtol(text.c_str(), &end, 10);
    return !text.empty() && *end == '\0' && errno == 0 && out >= 0 && out <= max;
}

bool parse_options(int argc, char** argv, Options& o, std::string* err) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--check-config") {
            o.check_only = true;
            continue;
        }
        if (a == "--help" || a == "-h") {
            *err = "";
            return false;
        }
        if (a != "--config" && a != "--node" && a != "--monitor-socket" && a != "--workers") {
            *err = "unknown option '" + a + "'";
            return false;
        }
        if (i + 1 >= argc) {
            *err = a + " needs a value";
            return false;
        }
        const std::string v = argv[++i];
        long n = 0;
        if (a == "--config") o.config = v;
        if (a == "--monitor-socket") o.monitor_socket = v;
        if (a == "--node") {
            if (!parse_number(v, 255, n)) {
                *err = "--node wants a node number, not '" + v + "'";
                return false;
            }
            o.node = static_cast<int>(n);
        }
        if (a == "--workers") {
            if (!parse_number(v, 256, n)) {
                *err = "--workers wants 0..256, not '" + v + "'";
                return false;
            }
            o.workers = static_cast<int>(n);
        }
    }
    if (o.config.empty()) {
        *err = "--config is required";
        return false;
    }
    if (!o.check_only && o.node < 0) {
        *err = "--node is required";
        return false;
    }
    return true;
}

int64_t monotonic_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

int main(int argc, char** argv) {
    using namespace dlba;
    using namespace dlba::server;

    Options opt;
    std::string err;
    if (!parse_options(argc, argv, opt, &err)) {
        if (!err.empty()) std::fprintf(stderr, "dlba-server: %s\n", err.c_str());
        std::fputs(kUsage, err.empty() ? stdout : stderr);
        return err.empty() ? 0 : 2;
    }

    ConfigResult loaded = load_config(opt.config);
    if (auto* e = std::get_if<ConfigError>(&loaded)) {
        std::fprintf(stderr, "dlba-server: %s\n", e->str().c_str());
        return 2;
    }
    ArrayConfig config = std::get<ArrayConfig>(std::move(loaded));
    if (!config.server) {
        std::fprintf(stderr, "dlba-server: %s: no 'server' section (listeners, timeouts, limits)\n",
                     opt.config.c_str());
        return 2;
    }
    if (opt.node >= 0 && !config.node(static_cast<uint16_t>(opt.node))) {
        std::fprintf(stderr, "dlba-server: node %d is not in %s\n", opt.node, opt.config.c_str());
        return 2;
    }
    if (!opt.monitor_socket.empty()) config.server->monitor_socket = opt.monitor_socket;
    if (opt.workers >= 0) config.server->workers = static_cast<uint32_t>(opt.workers);

    Shared shared(config, static_cast<uint16_t>(opt.node < 0 ? 0 : opt.node));
    bool any_tls = false;
    for (const ListenerConfig& l : config.server->listeners) any_tls = any_tls || l.tls;
    if (any_tls) {
        shared.tls = TlsContext::create(*config.tls, opt.config, &err);
        if (!shared.tls) {
            std::fprintf(stderr, "dlba-server: %s\n", err.c_str());
            return 2;
        }
    }
    if (opt.check_only) {
        std::printf("%s: ok (%zu listeners, %zu services, %zu back ends%s)\n", opt.config.c_str(),
                    config.server->listeners.size(), config.services.size(), config.backends.size(),
                    any_tls ? ", TLS certificate and key loaded" : "");
        return 0;
    }

    io::Fd access_log;
    const std::string& log_path = config.server->access_log;
    if (log_path == "stderr") {
        shared.access_log_fd = STDERR_FILENO;
    } else if (!log_path.empty()) {
        access_log.reset(open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
        if (!access_log) {
            std::fprintf(stderr, "dlba-server: access log %s: %s\n", log_path.c_str(), std::strerror(errno));
            return 1;
        }
        shared.access_log_fd = access_log.get();
    }

    // Each client connection takes a descriptor and each request in flight another: use all the process may have.
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < 2 * static_cast<rlim_t>(config.server->max_connections) + 64) {
        std::fprintf(stderr, "dlba-server: warning: %llu file descriptors allowed, max_connections %u needs about %u\n",
                     static_cast<unsigned long long>(files.rlim_cur), config.server->max_connections,
                     2 * config.server->max_connections + 64);
    }

    unsigned worker_count = config.server->workers;
    if (worker_count == 0) worker_count = std::max(1u, std::thread::hardware_concurrency());

    // Signals go to the main thread only: block them before the workers start (they inherit the mask).
    signal(SIGPIPE, SIG_IGN);
    sigset_t handled;
    sigemptyset(&handled);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&handled, s);
    pthread_sigmask(SIG_BLOCK, &handled, nullptr);

    std::vector<std::unique_ptr<Worker>> workers;
    for (unsigned i = 0; i < worker_count; ++i) {
        workers.push_back(std::make_unique<Worker>(shared, i));
        if (!workers.back()->open_listeners(&err)) {
            std::fprintf(stderr, "dlba-server: %s\n", err.c_str());
            return 1;
        }
    }

    io::ControlServer monitor(config.server->monitor_socket);
    if (!monitor.start(&err)) {
        std::fprintf(stderr, "dlba-server: monitor socket: %s\n", err.c_str());
        return 1;
    }

    for (auto& w : workers) w->start();

    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaction(s, &sa, nullptr);
    pthread_sigmask(SIG_UNBLOCK, &handled, nullptr);

    std::string listeners;
    for (const ListenerConfig& l : config.server->listeners) {
        // Appended piece by piece (GCC 12 -O3 warns falsely about operator+ chains on strings).
        listeners += ' ';
        listeners += format_ipv4(l.address);
        listeners += ':';
        listeners += std::to_string(l.port);
        if (l.tls) listeners += "(tls)";
    }
    std::fprintf(stderr, "dlba-server: node %d, %u workers, listening on%s, monitor %s\n", opt.node, worker_count,
                 listeners.c_str(), config.server->monitor_socket.c_str());

    std::vector<const WorkerStats*> stats;
    for (auto& w : workers) stats.push_back(&w->stats());
    const int64_t started = monotonic_ms();
    const auto handler = [&](std::string_view request) {
        ProcessFacts facts;
        facts.now_ms = monotonic_ms();
        facts.uptime_s = (facts.now_ms - started) / 1000;
        facts.workers = worker_count;
        facts.pid = static_cast<long>(getpid());
        return handle_monitor_request(request, shared, stats, facts);
    };
    while (true) {
        const int sig = g_signal.exchange(0);
        if (sig == SIGTERM || sig == SIGINT) break;
        if (sig == SIGHUP) {
            std::fprintf(stderr, "dlba-server: SIGHUP: reloading is not supported yet; restart to apply a new "
                                 "configuration\n");
        }
        monitor.poll_once(200, handler);
    }

    std::fprintf(stderr, "dlba-server: stopping: no new connections, in-flight requests get %u ms\n",
                 config.server->timeouts.shutdown_ms);
    for (auto& w : workers) w->request_stop();
    for (auto& w : workers) w->join();
    std::fprintf(stderr, "dlba-server: stopped\n");
    return 0;
}
