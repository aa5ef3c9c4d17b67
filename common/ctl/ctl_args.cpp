#include "ctl/ctl_args.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "protocol/builders.hpp"
#include "protocol/verbs.hpp"

namespace dlba::ctl {

namespace {

constexpr unsigned kMaxNode = 255;
constexpr int kMaxTimeoutMs = 10 * 60 * 1000;

// Digits only: no sign, no spaces, no hex, so "-1", "+3" and "2x" are all refused.
std::optional<uint64_t> parse_number(std::string_view s, uint64_t max) {
    if (s.empty() || s.size() > 20) return std::nullopt;
    for (char c : s)
        if (c < '0' || c > '9') return std::nullopt;
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v > max) return std::nullopt;
    return v;
}

std::string join(const std::vector<std::string_view>& words, size_t from) {
    std::string out;
    for (size_t i = from; i < words.size(); ++i) {
        if (i > from) out += ' ';
        out += words[i];
    }
    return out;
}

// A word dlbactl spells like an option (`hash --all`): a command word, not an option, once a command has begun.
bool is_cli_word(std::string_view arg) {
    for (const proto::CliSpelling& s : proto::cli_spellings()) {
        if (arg == s.cli) return true;
    }
    return false;
}

// dlbactl's own commands, which are not requests to one daemon: `raw LINE...` sends the line unchecked,
// `config push FILE` runs the two-phase push over every node's config port.
constexpr std::string_view kRaw = "raw";
constexpr std::string_view kConfig = "config";
constexpr std::string_view kKeygen = "keygen";
constexpr std::string_view kTop = "top";
constexpr int kMaxTopIntervalMs = 60000;
constexpr int kMaxTopCount = 10000;

// "1", "0.5", "2.25": seconds with at most three decimals, as milliseconds.
std::optional<uint64_t> parse_seconds_ms(std::string_view s) {
    const size_t dot = s.find('.');
    const std::string_view whole = s.substr(0, dot);
    std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
    if (dot != std::string_view::npos && (frac.empty() || frac.size() > 3)) return std::nullopt;
    const auto w = whole.empty() && !frac.empty() ? std::optional<uint64_t>(0) : parse_number(whole, 1000000);
    if (!w) return std::nullopt;
    uint64_t ms = *w * 1000;
    if (!frac.empty()) {
        const auto f = parse_number(frac, 999);
        if (!f) return std::nullopt;
        ms += *f * (frac.size() == 1 ? 100 : frac.size() == 2 ? 10 : 1);
    }
    return ms;
}

// Turns the command words into the invocation's request, or says what is wrong with them.
std::optional<UsageError> build_request(const std::vector<std::string_view>& w, Invocation& inv) {
    if (w.empty()) return UsageError{"no command given"};
    const size_t n = w.size();
    if (w[0] == kRaw) {
        if (n < 2) return UsageError{"usage: raw LINE..."};
        inv.request = join(w, 1);
        return std::nullopt;
    }
    if (w[0] == kKeygen) {
        if (n != 1) return UsageError{"usage: keygen"};
        inv.keygen = true;
        inv.request = "keygen";
        return std::nullopt;
    }
    if (w[0] == kTop) {
        if (n != 1) return UsageError{"usage: top [--interval SECONDS] [--count N]"};
        inv.top = true;
        inv.request = "top";
        return std::nullopt;
    }
    if (w[0] == kConfig) {
        if (n != 3 || w[1] != "push") return UsageError{"usage: config push FILE"};
        inv.push_file = std::string(w[2]);
        inv.request = join(w, 0);
        return std::nullopt;
    }
    proto::Parsed parsed = proto::parse_command(w);
    if (auto* e = std::get_if<proto::ParseError>(&parsed)) {
        if (e->kind == proto::ParseError::Kind::unknown_verb) {
            return UsageError{"unknown command '" + std::string(w[0]) + "' (try --help)"};
        }
        return UsageError{std::move(e->message)};
    }
    inv.command = std::get<proto::Request>(std::move(parsed));
    inv.request = proto::format(*inv.command);
    return std::nullopt;
}

// The options, and whether each takes a value ("-s PATH", "--socket PATH" or "--socket=PATH").
enum class Option { help, json, socket, node, all_nodes, config, timeout, interval, count, server_socket,
                    end_of_options };
struct OptionSpec {
    std::string_view short_name, long_name;
    Option option;
    bool takes_value;
};
constexpr std::array<OptionSpec, 11> kOptions{{
    {"-h", "--help", Option::help, false},
    {"-j", "--json", Option::json, false},
    {"-s", "--socket", Option::socket, true},
    {"-n", "--node", Option::node, true},
    {"-a", "--all-nodes", Option::all_nodes, false},
    {"-c", "--config", Option::config, true},
    {"-t", "--timeout", Option::timeout, true},
    {"-i", "--interval", Option::interval, true},
    {"-k", "--count", Option::count, true},
    {"", "--server-socket", Option::server_socket, true},
    {"", "--", Option::end_of_options, false},
}};

// The option `arg` names, and its value if written inline ("--socket=PATH").
const OptionSpec* find_option(std::string_view arg, std::optional<std::string_view>* inline_value) {
    for (const OptionSpec& o : kOptions) {
        if (arg == o.short_name || arg == o.long_name) return &o;
        if (o.takes_value && arg.size() > o.long_name.size() && arg.starts_with(o.long_name) &&
            arg[o.long_name.size()] == '=') {
            *inline_value = arg.substr(o.long_name.size() + 1);
            return &o;
        }
    }
    return nullptr;
}

}  // namespace

ParseResult parse_args(int argc, const char* const* argv, const char* env_socket) {
    Invocation inv;
    const bool env_given = env_socket && *env_socket;
    bool socket_given = env_given;
    inv.socket_path = env_given ? env_socket : proto::default_socket(proto::Daemon::scheduler);
    std::vector<std::string_view> words;

    // Options are accepted before and after the command (operators type `dlbactl status --json`), except after
    // `raw` or `--`, where every word belongs to the command.
    bool options_done = false;
    bool top_option_given = false;  // --interval, --count, --server-socket: top's alone
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const bool negative_number = arg.size() > 1 && arg[0] == '-' && arg[1] >= '0' && arg[1] <= '9';
        if (options_done || arg.empty() || arg[0] != '-' || arg == "-" || negative_number ||
            (is_cli_word(arg) && !words.empty())) {
            words.push_back(arg);
            if (words.size() == 1 && arg == kRaw) options_done = true;
            continue;
        }
        std::optional<std::string_view> value;
        const OptionSpec* o = find_option(arg, &value);
        if (!o) return UsageError{"unknown option '" + std::string(arg) + "' (try --help)"};
        if (o->takes_value && !value && i + 1 < argc) value = std::string_view(argv[++i]);
        switch (o->option) {
            case Option::end_of_options: options_done = true; break;
            case Option::help: return ShowHelp{};
            case Option::json: inv.json = true; break;
            case Option::all_nodes: inv.all_nodes = true; break;
            case Option::socket:
            case Option::config:
                if (!value || value->empty()) return UsageError{std::string(o->long_name) + " needs a path"};
                (o->option == Option::socket ? inv.socket_path : inv.config_path) = std::string(*value);
                socket_given = socket_given || o->option == Option::socket;
                break;
            case Option::node: {
                const auto n = value ? parse_number(*value, kMaxNode) : std::nullopt;
                if (!n || *n == 0) return UsageError{"--node needs a node number 1..255"};
                inv.node = static_cast<int>(*n);
                break;
            }
            case Option::interval: {
                const auto ms = value ? parse_seconds_ms(*value) : std::nullopt;
                if (!ms || *ms < 100 || *ms > kMaxTopIntervalMs)
                    return UsageError{"--interval must be 0.1..60 seconds, got '" + std::string(value.value_or("")) +
                                      "'"};
                inv.top_interval_ms = static_cast<int>(*ms);
                top_option_given = true;
                break;
            }
            case Option::count: {
                const auto c = value ? parse_number(*value, kMaxTopCount) : std::nullopt;
                if (!c || *c == 0)
                    return UsageError{"--count must be 1.." + std::to_string(kMaxTopCount) + ", got '" +
                                      std::string(value.value_or("")) + "'"};
                inv.top_count = static_cast<int>(*c);
                top_option_given = true;
                break;
            }
            case Option::server_socket:
                if (!value || value->empty()) return UsageError{"--server-socket needs a path"};
                inv.server_socket = std::string(*value);
                top_option_given = true;
                break;
            case Option::timeout: {
                if (!value) return UsageError{"--timeout needs a value in milliseconds"};
                const auto ms = parse_number(*value, kMaxTimeoutMs);
                if (!ms || *ms == 0)
                    return UsageError{"--timeout must be 1.." + std::to_string(kMaxTimeoutMs) + " ms, got '" +
                                      std::string(*value) + "'"};
                inv.timeout_ms = static_cast<int>(*ms);
                break;
            }
        }
    }

    if (auto e = build_request(words, inv)) return *e;
    if (top_option_given && !inv.top) return UsageError{"--interval, --count and --server-socket are for `top` only"};
    if (inv.top) {
        if (inv.node != 0 || inv.all_nodes) return UsageError{"top reads this node's sockets: no --node, --all-nodes"};
        if (inv.server_socket.empty()) inv.server_socket = proto::default_socket(proto::Daemon::server);
    }
    if (inv.command && !socket_given) {
        // Each command's daemon, from the protocol table: the server's `backends`, dlbad's `failover`, ...
        if (const char* path = proto::default_socket(proto::home_of(*inv.command))) inv.socket_path = path;
    }
    if (inv.request.find_first_of("\r\n") != std::string::npos)
        return UsageError{"a request must be a single line"};
    const auto access = inv.command ? std::optional(proto::access_of(*inv.command)) : std::nullopt;
    if (inv.all_nodes) {
        // The operator's admin state, on every node at once: node admin/weight to every scheduler (so that it
        // outlives a failover), back-end admin to every DLBA server. The sweep's own verdicts (fail/live) are not.
        if (access != proto::Access::admin)
            return UsageError{"--all-nodes takes " + proto::command_usage(proto::Access::admin)};
        if (inv.node != 0) return UsageError{"--all-nodes and --node exclude each other"};
    }
    if (inv.node != 0 && inv.push_file.empty() && access != proto::Access::read_only) {
        return UsageError{"--node reads tables only: " + proto::command_usage(proto::Access::read_only)};
    }
    return inv;
}

std::string usage_text() {
    return R"(Usage: dlbactl [OPTIONS] COMMAND [ARGS...]

Talks to a DLBA daemon's control socket (by default the scheduler's) and prints its answer.

Options (before or after the command):
  -s, --socket PATH   control socket (default: $DLBA_SOCKET, else /run/dlba/scheduler.sock;
                      /run/dlba/server.sock for `backends`, `latency` and `routes`; /run/dlba/dlbad.sock for `failover`,
                      `sweep`, `summary` and the admin commands `backend ...` and `node N
                      enable|disable|drain|weight W`, which dlbad keeps in its admin state file and passes
                      on; sent straight to a scheduler's or server's socket they apply to that process only)
  -n, --node N        read node N's tables from any host: through node N's daemon over its eth0
                      (failover.config_port), read-only commands only (status, hash, counters, sync,
                      failover, sweep, summary, backends)
  -a, --all-nodes     send an admin command to every node of --config through its daemon: `node N
                      enable|disable|drain|weight W` to every scheduler (the state then outlives a failover),
                      `backend KEY ...` to every DLBA server; each node's dlbad keeps it
  -c, --config FILE   the array configuration --node, --all-nodes and `config push` read
                      (default /etc/dlba/dlba.conf)
  -j, --json          print the daemon's JSON answer, indented, instead of a table
  -t, --timeout MS    give up after MS milliseconds (default 5000, at most 600000)
  -h, --help          show this help

Commands:
  hash [--all]        bucket table: a summary per node, or with --all every bucket (node, last access)
  status              server status table: number, eth0 MAC, IP, enabled, weight, failed, buckets,
                      hits, open connections and average response time where known
  counters            data-plane counters (packets by verdict, drops by reason)
  sync                this scheduler's table sync: source, versions, pulls, deltas, full copies, errors
  failover            node daemon: the election view (peers, heartbeats, terms, who is active, events)
  sweep               node daemon: the last status sweep, per node (answered, attempts, failed by sweep)
  summary             node daemon: the summary web-server status table (per back end: address, cookie
                      groups, total hits, total open connections over all nodes)
  backends            DLBA server's back-end status table: key, address, state (up/down/drain/disabled),
                      admin (in-service/oos/maintenance/sticky/failed), weight, open connections, hits,
                      average response time, errors
  backend KEY in-service
  backend KEY out-of-service oos|maintenance|sticky|failed
                      on this node's DLBA server, kept by dlbad across restarts: sticky keeps persistent
                      sessions (cookie, URL session id, bound requests) on the back end but sends it no new
                      ones; oos, maintenance and failed (the operator's verdict) send it nothing
  backend KEY weight W
                      the back end's weight at run time (0 takes no new sessions), kept likewise
  backend KEY enable|disable|drain
                      the older spellings of in-service, out-of-service oos and out-of-service sticky
  role active|standby switch this scheduler's role
  node N fail|live    mark node N (1..255) failed (it loses all its buckets at once) or live again
  node N enable|disable|drain
                      take new buckets / lose all buckets now / keep busy buckets but take no new ones
  node N weight W     set node N's weight (an integer >= 0; 0 takes no new buckets)
  config push FILE    validate FILE here, send it to every node's daemon (failover.config_port on each
                      eth0), and only if every node accepts it, replace it everywhere and reload
                      (scheduler and server reload live; the daemon restarts itself); else nothing changes
  top [-i SECONDS] [-k N] [--server-socket PATH]
                      live rates like `ipvsadm -L --rate`: per node (packets/s, bytes/s, hits/s from the
                      scheduler's status) and per back end (requests/s, errors/s from the server's backends),
                      from two samples --interval apart (default 1, 0.1..60 s), --count rounds (default 1)
  latency             DLBA server: per back end, responses by class and the response-time histogram
                      (cumulative buckets le_SECONDS, as dlbad's metrics endpoint serves them)
  routes              DLBA server: each listener's URI-dedicated routes (host, path prefix, service,
                      overflow) with their hits and overflows since the configuration was loaded
  keygen              print a fresh random peer key (64 hex digits) for failover.peer_keys; the first key
                      of the list signs the peer messages, every key verifies them (README: Peer authentication)
  raw LINE...         send LINE as is (debugging; no checks)

Output:
  Tables are printed like `ipvsadm -L -n`: a title line, "key: value" facts, then aligned columns
  ("-" means not known). Other answers print "ok: MESSAGE" on stdout or "error: MESSAGE" on stderr.

Exit status:
  0  success
  1  the daemon answered with an error (or with an answer dlbactl cannot read)
  2  usage error: nothing was sent
  3  the socket cannot be reached (missing, refused, permission denied, timed out)
)";
}

}  // namespace dlba::ctl
