// dlba-scheduler: the node's DPDK data plane. EAL arguments come first, then `--`, then ours:
//   dlba-scheduler <EAL args> -- --config FILE --node N [--control-socket PATH] [--role active|standby]
//                                [--port-id P] [--check-config]
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <poll.h>
#include <pthread.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "bucket_hash.hpp"
#include "bucket_sync.hpp"
#include "bucket_table.hpp"
#include "config/array_config.hpp"
#include "config/peer_settings.hpp"
#include "control/control_plane.hpp"
#include "control/direct_ip_status.hpp"
#include "control/table_sync.hpp"
#include "control/telemetry.hpp"
#include "dataplane/command_queue.hpp"
#include "dataplane/port.hpp"
#include "dataplane/worker.hpp"
#include "fragment_table.hpp"
#include "io/log_priority.hpp"
#include "io/sd_notify.hpp"
#include "io/unix_socket.hpp"
#include "protocol/request.hpp"

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

void on_signal(int) { g_stop.store(true); }
void on_hangup(int) { g_reload.store(true); }

// systemd's view of this daemon (io/sd_notify.hpp): its role as STATUS=, a reload bracketed by RELOADING=1 and
// READY=1, the watchdog fed by the control thread (the one that serves dlbad and renews the active lease).
std::string service_status(uint16_t node, bool active) {
    return "node " + std::to_string(node) + ": " + (active ? "active (answers ARP for the VIP)" : "standby");
}

struct Options {
    std::string config;
    int node = -1;
    std::string control_socket;
    bool active = false;
    uint16_t port_id = 0;
    bool check_only = false;
};

const char* kUsage =
    "usage: dlba-scheduler <EAL args> -- --config FILE --node N [--control-socket PATH]\n"
    "                      [--role active|standby] [--port-id P] [--check-config]\n"
    "  --config FILE          the array configuration (libconfig), the same file on every node\n"
    "  --node N               which node of the configuration this is\n"
    "  --control-socket PATH  overrides scheduler.control_socket\n"
    "  --role R               role at start (default standby; the failover daemon or dlbactl changes it)\n"
    "  --port-id P            DPDK port to own (default 0)\n"
    "  --check-config         validate the configuration and exit (no EAL needed)\n";

bool parse_options(const std::vector<std::string>& args, Options& o, std::string* err) {
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        const auto value = [&]() -> const std::string* {
            if (i + 1 >= args.size()) {
                *err = a + " needs a value";
                return nullptr;
            }
            return &args[++i];
        };
        if (a == "--check-config") {
            o.check_only = true;
        } else if (a == "--config" || a == "--node" || a == "--control-socket" || a == "--role" || a == "--port-id") {
            const std::string* v = value();
            if (!v) return false;
            if (a == "--config") o.config = *v;
            if (a == "--control-socket") o.control_socket = *v;
            if (a == "--node" || a == "--port-id") {
                char* end = nullptr;
                const long n = std::strtol(v->c_str(), &end, 10);
                if (*end != '\0' || n < 0 || n > 65535) {
                    *err = a + " wants a number, not '" + *v + "'";
                    return false;
                }
                if (a == "--node") o.node = static_cast<int>(n);
                if (a == "--port-id") o.port_id = static_cast<uint16_t>(n);
            }
            if (a == "--role") {
                if (*v != "active" && *v != "standby") {
                    *err = "--role is active or standby";
                    return false;
                }
                o.active = *v == "active";
            }
        } else if (a == "--help" || a == "-h") {
            *err = "";
            return false;
        } else {
            *err = "unknown option '" + a + "'";
            return false;
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

// The control thread should not compete with the data-plane lcore's pinning: let it run on any core.
void unpin_current_thread() {
    cpu_set_t all;
    CPU_ZERO(&all);
    for (int i = 0; i < CPU_SETSIZE; ++i) CPU_SET(i, &all);
    pthread_setaffinity_np(pthread_self(), sizeof all, &all);
}

int run(const Options& opt, const dlba::ArrayConfig& config) {
    using namespace dlba;
    using namespace dlba::sched;
    const NodeConfig* self = config.node(static_cast<uint16_t>(opt.node));
    if (!self) {
        std::fprintf(stderr, "<3>dlba-scheduler: node %d is not in %s\n", opt.node, opt.config.c_str());
        return 2;
    }
    std::string err;
    MempoolPtr pool = make_packet_pool("dlba_mbufs", 8191, &err);
    if (!pool) {
        std::fprintf(stderr, "<3>dlba-scheduler: %s\n", err.c_str());
        return 1;
    }
    std::unique_ptr<Port> port = Port::open(opt.port_id, pool.get(), self->sched_mac, &err);
    if (!port) {
        std::fprintf(stderr, "<3>dlba-scheduler: port %u: %s\n", opt.port_id, err.c_str());
        return 1;
    }

    const SchedulerConfig& sc = config.scheduler;
    auto table = std::make_unique<BucketTable>(sc.table_size, sc.bucket_idle_timeout_s, config.failover.journal_size);
    for (const NodeConfig& n : config.nodes) {
        table->set_node(n.number, n.eth0_mac, n.weight, n.enabled ? NodeAdmin::enabled : NodeAdmin::disabled);
    }
    FragmentTable fragments(sc.fragment_table_size, sc.fragment_timeout_ms);
    pkt::ClassifierConfig classifier;
    classifier.port_mac = port->mac();
    classifier.vip = config.vip;
    classifier.sched_ip = self->sched_ip;
    for (uint16_t p : config.tcp_ports) classifier.tcp_ports.add(p);
    for (uint16_t p : config.udp_ports) classifier.udp_ports.add(p);
    classifier.active = false;  // --role active or a role command turns it on, with gratuitous ARPs
    DirectIps direct_ips;       // nodes[].direct_ip; a reload sends a new list through the command queue
    direct_ips.set(direct_ip_list(config.nodes), classifier);

    static CounterArray counters;  // large and zero-initialised: static storage
    CommandQueue commands("dlba_commands");
    if (!commands.valid()) {
        std::fprintf(stderr, "<3>dlba-scheduler: cannot create the command ring\n");
        return 1;
    }
    WorkerSettings settings;
    settings.port_id = port->id();
    settings.pool = pool.get();
    settings.idle = sc.idle_poll;
    settings.garp_count = sc.garp_count;
    settings.garp_interval_ms = sc.garp_interval_ms;
    settings.garp_refresh_ms = sc.garp_refresh_ms;
    Worker worker(settings, *table, fragments, classifier, counters[rte_lcore_id()], commands, &direct_ips);

    SyncSettings sync_settings;
    sync_settings.listen_ip = self->eth0_ip;
    sync_settings.port = config.failover.sync_port;
    sync_settings.interval_ms = config.failover.sync_interval_ms;
    sync_settings.fingerprint = sync::fingerprint(sc);
    sync_settings.node = self->number;
    sync_settings.guard = peer_guard_settings(config);
    TableSync table_sync(sync_settings, *table, commands, worker.active());
    if (!table_sync.start(&err)) {
        // Forwarding does not need it; standbys of this node could not pull from it while it is active.
        std::fprintf(stderr, "<4>dlba-scheduler: warning: %s; this scheduler serves no table sync\n", err.c_str());
    }
    ControlPlane control(config, self->number, port->mac(), *table, counters, commands, worker.active(), table_sync);
    control.watch_direct_ips(&direct_ips);
    io::ControlServer server(opt.control_socket.empty() ? sc.control_socket : opt.control_socket);
    if (!server.start(&err)) {
        std::fprintf(stderr, "<3>dlba-scheduler: control socket: %s\n", err.c_str());
        return 1;
    }
    std::fprintf(stderr,
                 "dlba-scheduler: node %u port %u mac %s vip %s table %u buckets (%s) control %s role %s\n",
                 self->number, port->id(), port->mac().str().c_str(), format_ipv4(config.vip).c_str(),
                 sc.table_size, hash_kind_name(sc.hash), server.path().c_str(), opt.active ? "active" : "standby");

    if (opt.active) {
        worker.start_active();  // active before the first packet is polled
    } else {
        worker.start_standby();
    }
    std::thread sync_thread([&] {
        unpin_current_thread();
        table_sync.run(g_stop);
    });
    // The control thread changes the control plane only under this lock; DPDK's telemetry thread reads it under
    // the same lock (control/telemetry.hpp).
    std::mutex control_lock;
    telemetry_attach(control, control_lock);
    io::ServiceNotifier notifier;
    std::thread control_thread([&] {
        unpin_current_thread();
        while (!g_stop.load()) {
            notifier.watchdog_tick();
            notifier.status(service_status(self->number, worker.active().load()));
            // 50 ms: the active role's lease is checked this often (see ControlPlane::expire_lease).
            server.poll_once(50, [&](std::string_view req) {
                std::lock_guard<std::mutex> lock(control_lock);
                const proto::Parsed p = proto::parse(req, proto::Daemon::scheduler);
                const auto* r = std::get_if<proto::Request>(&p);
                if (!r || r->verb != proto::Verb::reload) return control.handle(req);
                notifier.reloading("reloading (config push)");  // dlbad passes a pushed file on as `reload`
                std::string answer = control.handle(req);
                notifier.ready(service_status(self->number, worker.active().load()));
                return answer;
            });
            // Not while requests wait: after a long request (a big hash page) a renewal may be among them.
            pollfd waiting{server.fd(), POLLIN, 0};
            if (poll(&waiting, 1, 0) == 0) {
                std::lock_guard<std::mutex> lock(control_lock);
                if (const std::string expired = control.expire_lease(); !expired.empty()) {
                    std::fprintf(stderr, "<5>dlba-scheduler: %s\n", expired.c_str());
                }
            }
            if (g_reload.exchange(false)) {
                std::lock_guard<std::mutex> lock(control_lock);
                notifier.reloading("reloading (SIGHUP)");
                std::fprintf(stderr, "<5>dlba-scheduler: SIGHUP: %s\n", control.reload().c_str());
                notifier.ready(service_status(self->number, worker.active().load()));
            }
        }
    });

    notifier.ready(service_status(self->number, opt.active));
    // Strategy chosen once, here: the loop is compiled for each hash, never branches on it per packet.
    if (sc.hash == HashKind::seed_sum) {
        worker.run(SeedSumHash{sc.table_size}, g_stop);
    } else {
        worker.run(MixHash{sc.table_size, sc.hash_seed}, g_stop);
    }
    g_stop.store(true);
    notifier.stopping("stopping");
    control_thread.join();
    telemetry_detach();
    sync_thread.join();
    const io::Table c = control.counters_table();
    std::fprintf(stderr, "dlba-scheduler: stopping; %s\n", c.to_json()["rows"].dump().c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    dlba::io::install_stderr_priorities();
    // Split at "--": EAL's arguments before, ours after.
    int split = argc;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--") == 0) {
            split = i;
            break;
        }
    }
    std::vector<std::string> ours(argv + std::min(split + 1, argc), argv + argc);
    Options opt;
    std::string err;
    if (!parse_options(ours, opt, &err)) {
        if (!err.empty()) std::fprintf(stderr, "<3>dlba-scheduler: %s\n", err.c_str());
        std::fputs(kUsage, stderr);
        return err.empty() ? 0 : 2;
    }
    dlba::ArrayConfigResult loaded = dlba::load_array_config(opt.config);
    if (const auto* e = std::get_if<dlba::ConfigError>(&loaded)) {
        std::fprintf(stderr, "<3>dlba-scheduler: configuration refused: %s\n", e->str().c_str());
        return 2;
    }
    const dlba::ArrayConfig& config = std::get<dlba::ArrayConfig>(loaded);
    if (opt.check_only) {
        std::printf("%s: ok (%zu nodes, %u buckets)\n", opt.config.c_str(), config.nodes.size(),
                    config.scheduler.table_size);
        return 0;
    }

    if (const std::string problem = config.failover.auth_problem(); !problem.empty()) {
        std::fprintf(stderr, "<3>dlba-scheduler: %s: %s\n", opt.config.c_str(), problem.c_str());
        return 2;
    }

    std::vector<char*> eal_argv(argv, argv + split);
    const int eal_rc = rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data());
    if (eal_rc < 0) {
        std::fprintf(stderr, "<3>dlba-scheduler: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGHUP, on_hangup);
    const int rc = run(opt, config);
    rte_eal_cleanup();
    return rc;
}
