#include "protocol/verbs.hpp"

#include <array>
#include <cassert>
#include <vector>

#include "protocol/arguments.hpp"

namespace dlba::proto {

namespace {

constexpr DaemonSet kScheduler = daemon_bit(Daemon::scheduler);
constexpr DaemonSet kServer = daemon_bit(Daemon::server);
constexpr DaemonSet kMonitor = daemon_bit(Daemon::dlbad_monitor);
constexpr DaemonSet kConfigPort = daemon_bit(Daemon::dlbad_config);
constexpr DaemonSet kSyncPort = daemon_bit(Daemon::sync_port);

constexpr bool kOffered = true;  // dlbactl offers it
constexpr bool kDaemonsOnly = false;

using enum Access;

// The protocol. Home is where dlbactl sends the verb and where dlbad's config port passes SHOW/ADMIN on.
// "status" is served by all three Unix sockets (each its own status; dlbad's is its failover table).
constexpr std::array<VerbSpec, kVerbs> kVerbTable{{
    // verb                     pattern                                   served by                     home                   access     dlbactl        example
    {Verb::status,            "status",                                 kScheduler | kServer | kMonitor, Daemon::scheduler,   read_only, kOffered,     "status"},
    {Verb::hash,              "hash",                                   kScheduler,                   Daemon::scheduler,     read_only, kOffered,     "hash"},
    {Verb::hash_all,          "hash all",                               kScheduler,                   Daemon::scheduler,     read_only, kOffered,     "hash all"},
    {Verb::hash_page,         "hash all {bucket}",                      kScheduler,                   Daemon::scheduler,     read_only, kDaemonsOnly, "hash all 65536"},
    {Verb::counters,          "counters",                               kScheduler,                   Daemon::scheduler,     read_only, kOffered,     "counters"},
    {Verb::sync,              "sync",                                   kScheduler,                   Daemon::scheduler,     read_only, kOffered,     "sync"},
    {Verb::backends,          "backends",                               kServer,                      Daemon::server,        read_only, kOffered,     "backends"},
    {Verb::failover,          "failover",                               kMonitor,                     Daemon::dlbad_monitor, read_only, kOffered,     "failover"},
    {Verb::sweep,             "sweep",                                  kMonitor,                     Daemon::dlbad_monitor, read_only, kOffered,     "sweep"},
    {Verb::summary,           "summary",                                kMonitor,                     Daemon::dlbad_monitor, read_only, kOffered,     "summary"},
    {Verb::node_admin,        "node {node} {admin}",                    kScheduler,                   Daemon::scheduler,     admin,     kOffered,     "node 2 drain"},
    {Verb::node_weight,       "node {node} weight {weight}",            kScheduler,                   Daemon::scheduler,     admin,     kOffered,     "node 2 weight 3"},
    {Verb::backend_admin,     "backend {key} {action}",                 kServer,                      Daemon::server,        admin,     kOffered,     "backend web1 disable"},
    {Verb::role,              "role {role}",                            kScheduler,                   Daemon::scheduler,     internal,  kOffered,     "role standby"},
    {Verb::role_active_lease, "role active lease {lease}",              kScheduler,                   Daemon::scheduler,     internal,  kDaemonsOnly, "role active lease 500"},
    {Verb::renew,             "renew",                                  kScheduler,                   Daemon::scheduler,     internal,  kDaemonsOnly, "renew"},
    {Verb::node_failed,       "node {node} {state}",                    kScheduler,                   Daemon::scheduler,     internal,  kOffered,     "node 3 fail"},
    {Verb::node_stats,        "node {node} stats {hits} {open} {avg}",  kScheduler,                   Daemon::scheduler,     internal,  kDaemonsOnly, "node 3 stats 120 4 2.500"},
    {Verb::sync_from,         "sync-from {node}",                       kScheduler,                   Daemon::scheduler,     internal,  kDaemonsOnly, "sync-from 1"},
    {Verb::sync_stop,         "sync-from none",                         kScheduler,                   Daemon::scheduler,     internal,  kDaemonsOnly, "sync-from none"},
    {Verb::sweep_done,        "sweep-done {time}",                      kScheduler,                   Daemon::scheduler,     internal,  kDaemonsOnly, "sweep-done 1700000000"},
    {Verb::reload,            "reload",                                 kScheduler | kServer,         Daemon::scheduler,     internal,  kDaemonsOnly, "reload"},
    {Verb::check_reload,      "check-reload {path}",                    kScheduler | kServer,         Daemon::scheduler,     internal,  kDaemonsOnly, "check-reload /etc/dlba/dlba.conf.staged"},
    {Verb::pull,              "PULL {fingerprint} {version}",           kSyncPort,                    Daemon::sync_port,     internal,  kDaemonsOnly, "PULL 9e3779b97f4a7c15 42"},
    {Verb::prepare,           "PREPARE {id} {length}",                  kConfigPort,                  Daemon::dlbad_config,  admin,     kDaemonsOnly, "PREPARE 0123456789abcdef 2048"},
    {Verb::commit,            "COMMIT {id}",                            kConfigPort,                  Daemon::dlbad_config,  admin,     kDaemonsOnly, "COMMIT 0123456789abcdef"},
    {Verb::abort,             "ABORT {id}",                             kConfigPort,                  Daemon::dlbad_config,  admin,     kDaemonsOnly, "ABORT 0123456789abcdef"},
    {Verb::show,              "SHOW {table}",                           kConfigPort,                  Daemon::dlbad_config,  read_only, kDaemonsOnly, "SHOW hash all 65536"},
    {Verb::admin,             "ADMIN {command}",                        kConfigPort,                  Daemon::dlbad_config,  admin,     kDaemonsOnly, "ADMIN node 2 weight 0"},
}};

constexpr bool in_verb_order() {
    for (size_t i = 0; i < kVerbTable.size(); ++i) {
        if (static_cast<size_t>(kVerbTable[i].verb) != i) return false;
    }
    return true;
}
static_assert(in_verb_order(), "kVerbTable lists the verbs in Verb order");

constexpr std::array<CliSpelling, 1> kCliSpellings{{{"all", "--all"}}};

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

const char* daemon_name(Daemon daemon) {
    switch (daemon) {
        case Daemon::scheduler: return "scheduler";
        case Daemon::server: return "server";
        case Daemon::dlbad_monitor: return "dlbad";
        case Daemon::dlbad_config: return "config port";
        case Daemon::sync_port: return "sync port";
    }
    return "?";
}

const char* default_socket(Daemon daemon) {
    switch (daemon) {
        case Daemon::scheduler: return "/run/dlba/scheduler.sock";
        case Daemon::server: return "/run/dlba/server.sock";
        case Daemon::dlbad_monitor: return "/run/dlba/dlbad.sock";
        case Daemon::dlbad_config:
        case Daemon::sync_port: return nullptr;
    }
    return nullptr;
}

std::span<const CliSpelling> cli_spellings() { return kCliSpellings; }

}  // namespace dlba::proto
