#include "protocol/verbs.hpp"

#include <array>
#include <cassert>
#include <vector>

#include "protocol/arguments.hpp"

namespace dlba::proto {

namespace {

constexpr DaemonSet kSched = daemon_bit(Daemon::scheduler);
constexpr DaemonSet kServer = daemon_bit(Daemon::server);
constexpr DaemonSet kMonitor = daemon_bit(Daemon::dlbad_monitor);
constexpr DaemonSet kConfig = daemon_bit(Daemon::dlbad_config);
constexpr DaemonSet kSync = daemon_bit(Daemon::sync_port);

constexpr bool kOffered = true;  // dlbactl offers it
constexpr bool kDaemonsOnly = false;

using enum Access;

// The protocol. Each entry: the verb, its pattern and an example line (canonical spelling; the tests round-trip
// every one), then who serves it, its home (where dlbactl sends it and where dlbad's config port passes a SHOW or
// ADMIN on), its access class, and whether dlbactl offers it as a command. "status" is served by all three Unix
// sockets (each with its own table; dlbad's is its failover table).
constexpr std::array<VerbSpec, kVerbs> kVerbTable{{
    {Verb::status,            "status",                                "status",
     kSched | kServer | kMonitor, Daemon::scheduler,     read_only, kOffered},
    {Verb::hash,              "hash",                                  "hash",
     kSched,                      Daemon::scheduler,     read_only, kOffered},
    {Verb::hash_all,          "hash all",                              "hash all",
     kSched,                      Daemon::scheduler,     read_only, kOffered},
    {Verb::hash_page,         "hash all {bucket}",                     "hash all 65536",
     kSched,                      Daemon::scheduler,     read_only, kDaemonsOnly},
    {Verb::counters,          "counters",                              "counters",
     kSched,                      Daemon::scheduler,     read_only, kOffered},
    {Verb::sync,              "sync",                                  "sync",
     kSched,                      Daemon::scheduler,     read_only, kOffered},
    {Verb::backends,          "backends",                              "backends",
     kServer,                     Daemon::server,        read_only, kOffered},
    {Verb::failover,          "failover",                              "failover",
     kMonitor,                    Daemon::dlbad_monitor, read_only, kOffered},
    {Verb::sweep,             "sweep",                                 "sweep",
     kMonitor,                    Daemon::dlbad_monitor, read_only, kOffered},
    {Verb::summary,           "summary",                               "summary",
     kMonitor,                    Daemon::dlbad_monitor, read_only, kOffered},
    {Verb::latency,           "latency",                               "latency",
     kServer,                     Daemon::server,        read_only, kOffered},
    {Verb::routes,            "routes",                                "routes",
     kServer,                     Daemon::server,        read_only, kOffered},
    // The admin state's home is dlbad, which keeps it in its state file and passes it on to the daemon that
    // applies it (applied_by); the scheduler and the server take it straight too (not kept then).
    {Verb::node_admin,        "node {node} {admin}",                   "node 2 drain",
     kSched | kMonitor,           Daemon::dlbad_monitor, admin,     kOffered},
    {Verb::node_weight,       "node {node} weight {weight}",           "node 2 weight 3",
     kSched | kMonitor,           Daemon::dlbad_monitor, admin,     kOffered},
    {Verb::backend_admin,     "backend {key} {action}",                "backend web1 disable",
     kServer | kMonitor,          Daemon::dlbad_monitor, admin,     kOffered},
    {Verb::backend_in_service, "backend {key} in-service",             "backend web1 in-service",
     kServer | kMonitor,          Daemon::dlbad_monitor, admin,     kOffered},
    {Verb::backend_out_of_service, "backend {key} out-of-service {reason}", "backend web1 out-of-service maintenance",
     kServer | kMonitor,          Daemon::dlbad_monitor, admin,     kOffered},
    {Verb::backend_weight,    "backend {key} weight {weight}",         "backend web1 weight 3",
     kServer | kMonitor,          Daemon::dlbad_monitor, admin,     kOffered},
    {Verb::role,              "role {role}",                           "role standby",
     kSched,                      Daemon::scheduler,     internal,  kOffered},
    {Verb::role_active_lease, "role active lease {lease}",             "role active lease 500",
     kSched,                      Daemon::scheduler,     internal,  kDaemonsOnly},
    {Verb::renew,             "renew",                                 "renew",
     kSched,                      Daemon::scheduler,     internal,  kDaemonsOnly},
    {Verb::node_failed,       "node {node} {state}",                   "node 3 fail",
     kSched,                      Daemon::scheduler,     internal,  kOffered},
    {Verb::node_stats,        "node {node} stats {hits} {open} {avg}", "node 3 stats 120 4 2.500",
     kSched,                      Daemon::scheduler,     internal,  kDaemonsOnly},
    {Verb::node_load,         "node {node} load {load} {steer}",       "node 3 load 72 steered",
     kSched,                      Daemon::scheduler,     internal,  kDaemonsOnly},
    {Verb::sync_from,         "sync-from {node}",                      "sync-from 1",
     kSched,                      Daemon::scheduler,     internal,  kDaemonsOnly},
    {Verb::sync_stop,         "sync-from none",                        "sync-from none",
     kSched,                      Daemon::scheduler,     internal,  kDaemonsOnly},
    {Verb::sweep_done,        "sweep-done {time}",                     "sweep-done 1700000000",
     kSched,                      Daemon::scheduler,     internal,  kDaemonsOnly},
    {Verb::reload,            "reload",                                "reload",
     kSched | kServer,            Daemon::scheduler,     internal,  kDaemonsOnly},
    {Verb::check_reload,      "check-reload {path}",                   "check-reload /etc/dlba/dlba.conf.staged",
     kSched | kServer,            Daemon::scheduler,     internal,  kDaemonsOnly},
    {Verb::pull,              "PULL {fingerprint} {version}",          "PULL 9e3779b97f4a7c15 42",
     kSync,                       Daemon::sync_port,     internal,  kDaemonsOnly},
    {Verb::prepare,           "PREPARE {id} {length}",                 "PREPARE 0123456789abcdef 2048",
     kConfig,                     Daemon::dlbad_config,  admin,     kDaemonsOnly},
    {Verb::commit,            "COMMIT {id}",                           "COMMIT 0123456789abcdef",
     kConfig,                     Daemon::dlbad_config,  admin,     kDaemonsOnly},
    {Verb::abort,             "ABORT {id}",                            "ABORT 0123456789abcdef",
     kConfig,                     Daemon::dlbad_config,  admin,     kDaemonsOnly},
    {Verb::show,              "SHOW {table}",                          "SHOW hash all 65536",
     kConfig,                     Daemon::dlbad_config,  read_only, kDaemonsOnly},
    {Verb::admin,             "ADMIN {command}",                       "ADMIN node 2 weight 0",
     kConfig,                     Daemon::dlbad_config,  admin,     kDaemonsOnly},
}};

constexpr bool in_verb_order() {
    for (size_t i = 0; i < kVerbTable.size(); ++i) {
        if (static_cast<size_t>(kVerbTable[i].verb) != i) return false;
    }
    return true;
}
static_assert(in_verb_order(), "kVerbTable lists the verbs in Verb order");

constexpr std::array<CliSpelling, 1> kCliSpellings{{{"all", "--all"}}};

struct DaemonInfo {
    Daemon daemon;
    const char* name;
    const char* default_socket;  // dlbactl's, for the Unix sockets
};
constexpr std::array<DaemonInfo, kDaemons> kDaemonTable{{
    {Daemon::scheduler, "scheduler", "/run/dlba/scheduler.sock"},
    {Daemon::server, "server", "/run/dlba/server.sock"},
    {Daemon::dlbad_monitor, "dlbad", "/run/dlba/dlbad.sock"},
    {Daemon::dlbad_config, "config port", nullptr},
    {Daemon::sync_port, "sync port", nullptr},
}};
static_assert([] {
    for (size_t i = 0; i < kDaemonTable.size(); ++i) {
        if (static_cast<size_t>(kDaemonTable[i].daemon) != i) return false;
    }
    return true;
}(), "kDaemonTable lists the daemons in Daemon order");

// Splits each pattern into tokens once. A pattern names only known argument types (asserted: a typo in the table
// is a programming error, caught by the first unit test that touches the verb).
struct TokenTable {
    std::array<std::vector<Token>, kVerbs> tokens;
    TokenTable() {
        for (const VerbSpec& v : kVerbTable) {
            std::vector<Token>& out = tokens[static_cast<size_t>(v.verb)];
            std::string_view rest = v.pattern;
            while (!rest.empty()) {
                const size_t space = rest.find(' ');
                const std::string_view word = rest.substr(0, space);
                rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
                if (word.size() > 2 && word.front() == '{' && word.back() == '}') {
                    const ArgSpec* a = arg_named(word.substr(1, word.size() - 2));
                    assert(a && "unknown argument type in a pattern");
                    out.push_back({a ? a->arg : Arg::literal, word});
                } else {
                    out.push_back({Arg::literal, word});
                }
            }
        }
    }
};

}  // namespace

std::span<const VerbSpec> verbs() { return kVerbTable; }

const VerbSpec& spec(Verb verb) { return kVerbTable[static_cast<size_t>(verb)]; }

std::span<const Token> tokens(Verb verb) {
    static const TokenTable table;
    return table.tokens[static_cast<size_t>(verb)];
}

const char* daemon_name(Daemon daemon) { return kDaemonTable[static_cast<size_t>(daemon)].name; }

const char* default_socket(Daemon daemon) { return kDaemonTable[static_cast<size_t>(daemon)].default_socket; }

std::span<const CliSpelling> cli_spellings() { return kCliSpellings; }

Daemon applied_by(Verb verb) {
    const VerbSpec& v = spec(verb);
    if (serves(v.served_by, Daemon::scheduler)) return Daemon::scheduler;
    if (serves(v.served_by, Daemon::server)) return Daemon::server;
    return v.home;
}

}  // namespace dlba::proto
