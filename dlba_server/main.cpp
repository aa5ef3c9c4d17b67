// dlba-server: the node's L7 proxy (TLS termination, HTTP/1.1, persistence, back-end selection).
//
//   dlba-server --config FILE --node N [--monitor-socket PATH] [--workers N] [--check-config]
//
// Signals: SIGTERM/SIGINT stop accepting, let in-flight requests finish (server.timeouts.shutdown_ms at most) and
// exit 0. SIGHUP reloads the --config file without dropping a connection (one log line says what came of it), as
// does the monitor request `reload`; `check-reload PATH` validates a file the same way and applies nothing. A file
// with an error is refused whole and the running configuration keeps serving. See reload/reloader.hpp for the
// steps and net/shared.hpp for how workers switch generations; the number of workers and the monitor socket only
// change with a restart. --monitor-socket and --workers keep overriding the file across reloads.
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "auth/peer_guard.hpp"
#include "auth/signer.hpp"
#include "clock.hpp"
#include "config/config.hpp"
#include "config/peer_settings.hpp"
#include "health/health_checker.hpp"
#include "io/envelope_stream.hpp"
#include "io/log_priority.hpp"
#include "io/sd_notify.hpp"
#include "io/tcp.hpp"
#include "io/unix_socket.hpp"
#include "net/shared.hpp"
#include "net/worker.hpp"
#include "reload/reloader.hpp"
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


}  // namespace

int main(int argc, char** argv) {
    using namespace dlba;
    using namespace dlba::server;
    io::install_stderr_priorities();

    Options opt;
    std::string err;
    if (!parse_options(argc, argv, opt, &err)) {
        if (!err.empty()) std::fprintf(stderr, "<3>dlba-server: %s\n", err.c_str());
        std::fputs(kUsage, err.empty() ? stdout : stderr);
        return err.empty() ? 0 : 2;
    }

    const Overrides overrides{opt.monitor_socket, opt.workers};
    std::optional<Config> loaded = load_server_config(opt.config, opt.node, overrides, &err);
    if (!loaded) {
        std::fprintf(stderr, "<3>dlba-server: %s\n", err.c_str());
        return 2;
    }
    if (opt.check_only) {
        std::shared_ptr<const TlsContext> tls;
        std::vector<std::shared_ptr<const BackendTlsContext>> backend_tls;
        if (!load_tls(*loaded, false, &tls, &err) || !load_backend_tls(*loaded, &backend_tls, &err)) {
            std::fprintf(stderr, "<3>dlba-server: %s\n", err.c_str());
            return 2;
        }
        std::printf("%s: ok (%zu listeners, %zu services, %zu back ends%s)\n", opt.config.c_str(),
                    loaded->server->listeners.size(), loaded->services.size(), loaded->backends.size(),
                    tls ? ", TLS certificate and key loaded" : "");
        return 0;
    }
    // The server answers the array's status sweep on eth0: without peer keys anyone could answer it for us.
    if (const std::string problem = loaded->failover.auth_problem(); !problem.empty()) {
        std::fprintf(stderr, "<3>dlba-server: %s: %s\n", opt.config.c_str(), problem.c_str());
        return 2;
    }
    const uint32_t max_connections = loaded->server->max_connections;
    const std::string monitor_path = loaded->server->monitor_socket;

    // Each client connection takes a descriptor and each request in flight another: use all the process may have.
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < 2 * static_cast<rlim_t>(max_connections) + 64) {
        std::fprintf(stderr, "<4>dlba-server: warning: %llu file descriptors allowed, max_connections %u needs about %u\n",
                     static_cast<unsigned long long>(files.rlim_cur), max_connections, 2 * max_connections + 64);
    }

    unsigned worker_count = loaded->server->workers;
    if (worker_count == 0) worker_count = std::max(1u, std::thread::hardware_concurrency());

    // Signals go to the main thread only: block them before the workers start (they inherit the mask).
    signal(SIGPIPE, SIG_IGN);
    sigset_t handled;
    sigemptyset(&handled);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&handled, s);
    pthread_sigmask(SIG_BLOCK, &handled, nullptr);

    // The per-address table's hash is keyed per process: a client cannot pick addresses that crowd one window.
    Shared shared(static_cast<uint16_t>(opt.node), worker_count, max_connections, std::random_device{}());
    std::vector<std::unique_ptr<Worker>> workers;
    std::vector<Worker*> worker_list;
    for (unsigned i = 0; i < worker_count; ++i) {
        workers.push_back(std::make_unique<Worker>(shared, i));
        worker_list.push_back(workers.back().get());
        if (!workers.back()->init(&err)) {
            std::fprintf(stderr, "<3>dlba-server: %s\n", err.c_str());
            return 1;
        }
    }
    // Generation 1: every listener bound for every worker (a bad address stops the process here), the access log
    // opened, the TLS context loaded.
    Reloader reloader(opt.config, static_cast<uint16_t>(opt.node), overrides, shared, worker_list);
    if (!reloader.start(std::move(*loaded), &err)) {
        std::fprintf(stderr, "<3>dlba-server: %s\n", err.c_str());
        return 1;
    }

    // The active checks and load agents: one thread for the process (health/health_checker.hpp).
    HealthChecker checker(shared, std::random_device{}());
    if (!checker.start(&err)) {
        std::fprintf(stderr, "<3>dlba-server: %s\n", err.c_str());
        return 1;
    }

    io::ControlServer monitor(monitor_path);
    if (!monitor.start(&err)) {
        std::fprintf(stderr, "<3>dlba-server: monitor socket: %s\n", err.c_str());
        return 1;
    }

    // The status sweep's question "can this node serve?" is answered here, by the process that serves, on the
    // node's eth0 IP (not by the node daemon: its death must not fail a node whose server works). A node entry or
    // address that is not usable here only costs the sweep's answers, so it is a warning, not a stop.
    io::Fd status_listener;
    if (const NodeConfig* self = shared.current()->config.node(static_cast<uint16_t>(opt.node))) {
        const uint16_t port = shared.current()->config.failover.status_port;
        status_listener = io::tcp_listener(self->eth0_ip, port, &err);
        if (!status_listener) {
            std::fprintf(stderr, "<4>dlba-server: warning: status port %s:%u: %s; the array's status sweep will find "
                                 "this node silent and mark it failed\n",
                         format_ipv4(self->eth0_ip).c_str(), port, err.c_str());
        }
    }

    for (auto& w : workers) w->start();

    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaction(s, &sa, nullptr);
    pthread_sigmask(SIG_UNBLOCK, &handled, nullptr);

    std::string listeners;
    for (const ListenerConfig& l : shared.current()->server().listeners) {
        // Appended piece by piece (GCC 12 -O3 warns falsely about operator+ chains on strings).
        listeners += ' ';
        listeners += format_ipv4(l.address);
        listeners += ':';
        listeners += std::to_string(l.port);
        if (l.tls) listeners += "(tls)";
    }
    std::fprintf(stderr, "dlba-server: node %d, %u workers, listening on%s, monitor %s\n", opt.node, worker_count,
                 listeners.c_str(), monitor_path.c_str());

    // systemd's view (io/sd_notify.hpp): serving from here on; reloads bracketed; the watchdog fed by this loop.
    io::ServiceNotifier notifier;
    const auto service_status = [&] {
        return "node " + std::to_string(opt.node) + ": serving," + listeners + ", generation " +
               std::to_string(shared.current()->number);
    };
    std::vector<const WorkerStats*> stats;
    for (auto& w : workers) stats.push_back(&w->stats());
    const int64_t started = static_cast<int64_t>(clock::monotonic_ms());
    // The monitor socket's answer to a reload request is the reloader's outcome as a dlba-reply.
    const auto reply_of = [](const ReloadOutcome& r) {
        return r.ok ? io::reply_ok(r.message) : io::reply_error(r.message);
    };
    const ReloadCommands reload_commands{
        [&] {
            notifier.reloading("reloading (monitor request)");
            const ReloadOutcome r = reloader.reload();
            std::fprintf(stderr, "%sdlba-server: reload (monitor): %s\n", r.ok ? "<5>" : "<4>", r.message.c_str());
            notifier.ready(service_status());
            return reply_of(r);
        },
        [&](const std::string& path) { return reply_of(reloader.check(path)); },
    };
    const auth::DropCounters* sweep_guard_drops = nullptr;  // set once the status port's guard exists
    const auto facts_now = [&] {
        ProcessFacts facts;
        facts.now_ms = static_cast<int64_t>(clock::monotonic_ms());
        facts.uptime_s = (facts.now_ms - started) / 1000;
        facts.workers = worker_count;
        facts.pid = static_cast<long>(getpid());
        facts.reloads_refused = reloader.refused();
        for (size_t r = 0; r < auth::kDropReasons; ++r) {
            facts.sweep_auth_drops[r] = sweep_guard_drops ? sweep_guard_drops->get(static_cast<auth::Drop>(r)) : 0;
        }
        return facts;
    };
    const auto handler = [&](std::string_view request) {
        const ProcessFacts facts = facts_now();
        // Held for the answer: a reload in this very request publishes another, this one stays valid.
        const std::shared_ptr<const Generation> gen = shared.current();
        return handle_monitor_request(request, *gen, stats, facts, &reload_commands);
    };
    // The sweep's request is signed by the sweeping node and our answer is bound to it (common/auth): a forged
    // or replayed request gets no answer, and a captured answer cannot stand in for a later one. The keys and the
    // nodes are those of the file the server started on (a push restarts the daemons that check keys anyway,
    // and a rotation keeps the old key for a while).
    const auth::GuardSettings guard_settings = peer_guard_settings(shared.current()->config);
    auth::PeerGuard sweep_guard("dlba-server: status port", guard_settings);
    auth::Signer sweep_signer(guard_settings.ring, static_cast<uint16_t>(opt.node));
    sweep_guard_drops = &sweep_guard.drops();
    const Generation* keyed_for = shared.current().get();  // the generation whose keys the guard holds
    const auto answer_sweep = [&] {
        io::Fd client(accept4(status_listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!client) return;
        const std::shared_ptr<const Generation> gen = shared.current();
        if (gen.get() != keyed_for) {
            // A reload may have rotated the keys or changed the nodes; the replay state carries over.
            keyed_for = gen.get();
            auth::GuardSettings next = peer_guard_settings(gen->config);
            sweep_signer.set_ring(next.ring);
            sweep_guard.update(std::move(next));
        }
        std::string sealed;
        const auto request = io::read_sealed_request(client.get(), sweep_guard, auth::Kind::sweep_request, 256,
                                                     io::deadline_in(1000), false, "a sweep request", &sealed);
        if (!request) return;
        ProcessFacts facts = facts_now();
        const proto::NodeStatus status = node_status(*gen, stats, facts, static_cast<int64_t>(clock::unix_s()));
        const std::string answer = status.to_table().to_json().dump();
        io::write_all(client.get(), sweep_signer.answer(auth::Kind::sweep_answer, answer, request->header),
                      io::deadline_in(1000));
    };
    notifier.ready(service_status());
    while (true) {
        notifier.watchdog_tick();
        const int sig = g_signal.exchange(0);
        if (sig == SIGTERM || sig == SIGINT) break;
        if (sig == SIGHUP) {
            notifier.reloading("reloading (SIGHUP)");
            const ReloadOutcome r = reloader.reload();
            std::fprintf(stderr, "%sdlba-server: SIGHUP: %s\n", r.ok ? "<5>" : "<4>", r.message.c_str());
            notifier.ready(service_status());
        }
        pollfd fds[2] = {{monitor.fd(), POLLIN, 0}, {status_listener.get(), POLLIN, 0}};  // fd -1 is ignored
        if (poll(fds, 2, notifier.watchdog_wait_ms(200)) <= 0) continue;
        if (fds[0].revents & POLLIN) monitor.poll_once(0, handler);
        if (fds[1].revents & POLLIN) answer_sweep();
    }
    status_listener.reset();  // stopping: the sweep finds this node silent from now on
    notifier.stopping("stopping: finishing the requests in flight");

    std::fprintf(stderr, "dlba-server: stopping: no new connections, in-flight requests get %u ms\n",
                 shared.current()->server().timeouts.shutdown_ms);
    checker.stop();
    for (auto& w : workers) w->request_stop();
    for (auto& w : workers) w->join();
    std::fprintf(stderr, "dlba-server: stopped\n");
    return 0;
}
