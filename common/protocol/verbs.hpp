// The control protocol, defined once: every request any DLBA daemon takes, as one table (verbs.cpp) of
//
//   verb | pattern (literal words, {argument} types) | example | served by | home | access class | in dlbactl
//
// parse() and format() (request.hpp) both walk it, dlbactl takes its commands, default sockets and the --node /
// --all-nodes rules from it, and dlbad's config port classifies SHOW and ADMIN requests by it. A verb added later
// is one entry there plus its handler.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "protocol/request.hpp"

namespace dlba::proto {

using DaemonSet = uint8_t;
constexpr DaemonSet daemon_bit(Daemon d) { return static_cast<DaemonSet>(1u << static_cast<unsigned>(d)); }
constexpr bool serves(DaemonSet set, Daemon d) { return (set & daemon_bit(d)) != 0; }

// The argument types a pattern's {placeholders} name; each fills one field of Request.
enum class Arg : uint8_t {
    literal,          // a fixed word
    node,             // {node}: a node number 1..255
    weight,           // {weight}: 0..4294967295
    lease_ms,         // {lease}: 1..4294967295 ms
    from_bucket,      // {bucket}: 0..4294967295
    unix_time,        // {time}: unix seconds
    key,              // {key}: a back end's key (any word)
    path,             // {path}: a file (any word)
    node_admin,       // {admin}: enable|disable|drain
    node_state,       // {state}: fail|live
    role,             // {role}: active|standby
    backend_action,   // {action}: enable|disable|drain
    backend_reason,   // {reason}: oos|maintenance|sticky|failed
    hits,             // {hits}: a count, or "-" (not known)
    open_conns,       // {open}: a count, or "-"
    avg_ms,           // {avg}: milliseconds >= 0 with three decimals, or "-"
    fingerprint,      // {fingerprint}: 64 bits in hex
    version,          // {version}: a table version
    config_id,        // {id}: 16 hex digits
    length,           // {length}: a byte count
    read_only_request,  // {table}: the rest of the line, a read-only request
    admin_request,      // {command}: the rest of the line, an admin request
    load_pct,           // {load}: a percentage 0..100, or "-" (not known)
    steer,              // {steer}: steered|normal
};

struct Token {
    Arg arg = Arg::literal;
    std::string_view word;  // literal tokens: the word
};

struct VerbSpec {
    Verb verb;
    std::string_view pattern;  // e.g. "node {node} weight {weight}"
    std::string_view example;  // a well-formed line, in its canonical spelling (tests round-trip every one)
    DaemonSet served_by;
    Daemon home;     // where dlbactl sends it by default, and where dlbad's config port passes a SHOW or ADMIN on
    Access access;
    bool offered;    // dlbactl offers it as a command
};

// Every entry, in Verb order.
std::span<const VerbSpec> verbs();
const VerbSpec& spec(Verb verb);
// The pattern's tokens (parsed from it once).
std::span<const Token> tokens(Verb verb);

// A request's entry, for routing and access checks (dlbad's config port: SHOW must be read_only, ADMIN admin, and
// each goes on to its home daemon).
inline Access access_of(const Request& r) { return spec(r.verb).access; }
inline Daemon home_of(const Request& r) { return spec(r.verb).home; }
// The process that applies an admin-state request whose home is dlbad (which keeps it and passes it on): the
// scheduler for the node verbs, the DLBA server for the back-end verbs.
Daemon applied_by(Verb verb);

const char* daemon_name(Daemon daemon);
// The Unix socket dlbactl asks when no --socket is given; nullptr for the TCP ports.
const char* default_socket(Daemon daemon);

// Words dlbactl spells like options: `dlbactl hash --all` sends "hash all".
struct CliSpelling {
    std::string_view wire;
    std::string_view cli;
};
std::span<const CliSpelling> cli_spellings();

}  // namespace dlba::proto
