// The control protocol's typed request: what every line a DLBA daemon takes means, parsed from and formatted to
// the one line format by walking the verb table (protocol/verbs.cpp). The wire stays words separated by spaces,
// one request per line:
//
//   "node 2 drain"  <->  Request{Verb::node_admin, .node = 2, .admin = NodeAdmin::draining}
//
// Build requests with protocol/builders.hpp, never by hand: format(proto::node_admin(2, NodeAdmin::draining)).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "bucket_table.hpp"
#include "protocol/node_status.hpp"

namespace dlba::proto {

// Where a request is served.
enum class Daemon : uint8_t {
    scheduler,      // dlba-scheduler's control socket (Unix)
    server,         // dlba-server's monitor socket (Unix)
    dlbad_monitor,  // dlbad's monitor socket (Unix)
    dlbad_config,   // dlbad's config port (TCP on eth0): config push, dlbactl --node and --all-nodes
    sync_port,      // the scheduler's table-sync port (TCP on eth0)
};
inline constexpr size_t kDaemons = 5;

// Who may send it.
enum class Access : uint8_t {
    read_only,  // a table: any host may read it (dlbactl --node N, SHOW on the config port)
    admin,      // the operator's admin state, on every node at once (dlbactl --all-nodes, ADMIN on the config port)
    internal,   // between the array's own daemons (dlbactl may send some of them to a local socket)
};

// One per table entry, in the table's order (protocol/verbs.cpp).
enum class Verb : uint8_t {
    // tables
    status,     // status
    hash,       // hash
    hash_all,   // hash all
    hash_page,  // hash all FROM_BUCKET (dlbactl fetches a long listing page by page)
    counters,   // counters
    sync,       // sync
    backends,   // backends
    failover,   // failover
    sweep,      // sweep
    summary,    // summary
    latency,    // latency (the server's response-time histograms and responses by class, per back end)
    routes,     // routes (the server's URI-dedicated routes per listener: hits, overflows)
    // the operator's admin state
    node_admin,     // node N enable|disable|drain
    node_weight,    // node N weight W
    backend_admin,  // backend KEY enable|disable|drain (the older spellings of in-service / out-of-service)
    backend_in_service,      // backend KEY in-service
    backend_out_of_service,  // backend KEY out-of-service oos|maintenance|sticky|failed
    backend_weight,          // backend KEY weight W
    // between the daemons
    role,               // role active|standby
    role_active_lease,  // role active lease MS
    renew,              // renew
    node_failed,        // node N fail|live
    node_stats,         // node N stats HITS OPEN AVG_MS
    node_load,          // node N load PCT steered|normal (load steering, from the active's dlbad)
    sync_from,          // sync-from N
    sync_stop,          // sync-from none
    sweep_done,         // sweep-done UNIX_TIME
    reload,             // reload
    check_reload,       // check-reload PATH
    pull,               // PULL FINGERPRINT VERSION (table sync)
    // the config port (config push, --node, --all-nodes)
    prepare,  // PREPARE ID LENGTH, then LENGTH bytes of configuration file
    commit,   // COMMIT ID
    abort,    // ABORT ID
    show,     // SHOW REQUEST (a read-only request for this node's daemons)
    admin,    // ADMIN REQUEST (an admin request for this node's daemons)
};
inline constexpr size_t kVerbs = static_cast<size_t>(Verb::admin) + 1;

// What a back-end admin request asks of a DLBA server.
enum class BackendAction : uint8_t { enable, disable, drain };

// The operator's state of a back end (seed 002's in-service / out-of-service reasons). sticky keeps the persistent
// sessions it has (cookie, URL session id, bound requests) and takes no new ones; the others take nothing. failed is
// the operator's verdict, distinct from a back end marked down after a connect failure.
enum class BackendMode : uint8_t { in_service, oos, maintenance, sticky, failed };
const char* backend_mode_name(BackendMode mode);  // in-service, oos, maintenance, sticky, failed
std::optional<BackendMode> backend_mode_named(std::string_view name);

// Only the fields the verb's pattern names are meaningful; the rest keep their defaults.
struct Request {
    Verb verb = Verb::status;
    uint16_t node = 0;                      // node N ..., sync-from N
    NodeAdmin admin = NodeAdmin::enabled;   // node N enable|disable|drain
    uint32_t weight = 0;                    // node N weight W
    bool failed = false;                    // node N fail|live
    NodeFigures figures;                    // node N stats HITS OPEN AVG_MS
    std::optional<uint32_t> load_pct;       // node N load PCT ... (0..100, "-": not known)
    bool steered = false;                   // node N load PCT steered|normal
    bool active = false;                    // role active|standby
    uint32_t lease_ms = 0;                  // role active lease MS (> 0)
    uint32_t from_bucket = 0;               // hash all FROM_BUCKET
    uint64_t unix_time = 0;                 // sweep-done UNIX_TIME
    std::string key;                        // backend KEY
    BackendAction action = BackendAction::enable;  // backend KEY enable|disable|drain
    BackendMode mode = BackendMode::oos;    // backend KEY out-of-service REASON
    std::string path;                       // check-reload PATH
    uint64_t fingerprint = 0;               // PULL FINGERPRINT (hex)
    uint64_t version = 0;                   // PULL ... VERSION
    std::string config_id;                  // PREPARE / COMMIT / ABORT ID: 16 hex digits (push::config_id)
    uint64_t length = 0;                    // PREPARE ID LENGTH
    std::shared_ptr<const Request> inner;   // SHOW / ADMIN: the request for the node's daemons
};

struct ParseError {
    enum class Kind : uint8_t {
        empty,          // no words at all
        unknown_verb,   // no entry starts with this word (for this daemon)
        bad_arguments,  // the verb is known; the words after it do not fit
    };
    Kind kind = Kind::empty;
    std::string message;  // for the sender: "usage: node N weight W", "node number must be 1..255, got '0'", ...
    // bad_arguments: the first verb of those the line's first word names (e.g. Verb::show for "SHOW role active"),
    // for a daemon whose reply format depends on the verb (the config port: SHOW/ADMIN answer in JSON).
    std::optional<Verb> verb;
};

using Parsed = std::variant<Request, ParseError>;

// The state a back-end admin request (backend_admin, backend_in_service, backend_out_of_service) sets:
// enable = in-service, disable = out-of-service oos, drain = out-of-service sticky.
BackendMode backend_mode_of(const Request& request);
// Sets a back end's or a node's admin state or weight (what dlbad keeps in its admin state file).
bool is_admin_state(Verb verb);

// One request line as `daemon` receives it: only the verbs that daemon serves.
Parsed parse(std::string_view line, Daemon daemon);

// dlbactl's command words: only the verbs dlbactl offers, of the given access class (or any), and dlbactl's own
// spellings of some words ("hash --all"). Error messages use those spellings.
Parsed parse_command(std::span<const std::string_view> words, std::optional<Access> access = std::nullopt);

// The request line, without its newline. format(parse(line)) == line for every well-formed line in its canonical
// spelling (single spaces, numbers without leading zeros, three decimals for an average).
std::string format(const Request& request);
// The line and its newline, for the TCP ports (the Unix socket client adds the newline itself).
std::string format_line(const Request& request);

// "status | hash [all [FROM_BUCKET]] | ..." for the verbs `daemon` serves.
std::string usage(Daemon daemon);
// The same in dlbactl's spelling for the commands it offers of the given access class (or all).
std::string command_usage(std::optional<Access> access = std::nullopt);

}  // namespace dlba::proto
