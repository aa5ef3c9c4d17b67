#include "ctl/ctl_args.hpp"

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace dlba::ctl {

namespace {

constexpr unsigned kMaxNode = 255;
// `backends` asks a DLBA server, not the scheduler: its default socket is the server's monitor socket.
constexpr const char* kDefaultServerSocket = "/run/dlba/server.sock";
// `failover`, `sweep` and `summary` ask the node daemon.
constexpr const char* kDefaultDaemonSocket = "/run/dlba/dlbad.sock";
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

// Turns the command words into the request line, or says what is wrong with them.
std::variant<std::string, UsageError> build_request(const std::vector<std::string_view>& w) {
    auto usage = [](std::string m) { return UsageError{std::move(m)}; };
    if (w.empty()) return usage("no command given");
    const std::string_view cmd = w[0];
    const size_t n = w.size();

    if (cmd == "hash") {
        if (n == 1) return std::string("hash");
        if (n == 2 && (w[1] == "--all" || w[1] == "all")) return std::string("hash all");
        return usage("usage: hash [--all]");
    }
    if (cmd == "config") {
        if (n != 3 || w[1] != "push") return usage("usage: config push FILE");
        return "config push " + std::string(w[2]);
    }
    if (cmd == "failover" || cmd == "sweep" || cmd == "summary" || cmd == "sync") {
        if (n != 1) return usage(std::string(cmd) + " takes no arguments");
        return std::string(cmd);
    }
    if (cmd == "backend") {
        if (n != 3 || (w[2] != "enable" && w[2] != "disable" && w[2] != "drain")) {
            return usage("usage: backend KEY enable|disable|drain");
        }
        return "backend " + std::string(w[1]) + " " + std::string(w[2]);
    }
    if (cmd == "backends") {
        if (n != 1) return usage("backends takes no arguments");
        return std::string("backends");
    }
    if (cmd == "status" || cmd == "counters") {
        if (n != 1) return usage(std::string(cmd) + " takes no arguments");
        return std::string(cmd);
    }
    if (cmd == "role") {
        if (n != 2 || (w[1] != "active" && w[1] != "standby")) return usage("usage: role active|standby");
        return "role " + std::string(w[1]);
    }
    if (cmd == "node") {
        if (n < 3) return usage("usage: node N fail|live|enable|disable|drain, or node N weight W");
        auto node = parse_number(w[1], kMaxNode);
        if (!node || *node == 0) return usage("node number must be 1..255, got '" + std::string(w[1]) + "'");
        const std::string prefix = "node " + std::to_string(*node) + " ";
        const std::string_view action = w[2];
        if (action == "weight") {
            if (n != 4) return usage("usage: node N weight W");
            auto weight = parse_number(w[3], UINT32_MAX);
            if (!weight)
                return usage("weight must be an integer 0.." + std::to_string(UINT32_MAX) + ", got '" +
                             std::string(w[3]) + "'");
            return prefix + "weight " + std::to_string(*weight);
        }
        if (action == "fail" || action == "live" || action == "enable" || action == "disable" ||
            action == "drain") {
            if (n != 3) return usage("node N " + std::string(action) + " takes no further arguments");
            return prefix + std::string(action);
        }
        return usage("unknown node action '" + std::string(action) +
                     "' (expected fail, live, enable, disable, drain or weight)");
    }
    if (cmd == "raw") {
        if (n < 2) return usage("usage: raw LINE...");
        return join(w, 1);
    }
    return usage("unknown command '" + std::string(cmd) + "' (try --help)");
}

}  // namespace

ParseResult parse_args(int argc, const char* const* argv, const char* env_socket) {
    Invocation inv;
    const bool env_given = env_socket && *env_socket;
    bool socket_given = env_given;
    inv.socket_path = env_given ? env_socket : kDefaultSocket;
    std::vector<std::string_view> words;

    // Options are accepted before and after the command (operators type `dlbactl status --json`), except after
    // `raw` or `--`, where every word belongs to the command.
    bool options_done = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const bool negative_number = arg.size() > 1 && arg[0] == '-' && arg[1] >= '0' && arg[1] <= '9';
        if (options_done || arg.empty() || arg[0] != '-' || arg == "-" || negative_number ||
            (arg == "--all" && !words.empty() && words[0] == "hash")) {
            words.push_back(arg);
            if (words.size() == 1 && arg == "raw") options_done = true;
            continue;
        }
        // An option's value: "--socket PATH" or "--socket=PATH".
        auto value = [&](std::string_view name) -> std::optional<std::string_view> {
            if (arg.size() > name.size() && arg.substr(0, name.size()) == name && arg[name.size()] == '=')
                return arg.substr(name.size() + 1);
            if (arg != name || i + 1 >= argc) return std::nullopt;
            return std::string_view(argv[++i]);
        };
        auto is = [&](std::string_view name) { return arg == name || arg.starts_with(std::string(name) + "="); };

        if (arg == "--") {
            options_done = true;
        } else if (arg == "-h" || arg == "--help") {
            return ShowHelp{};
        } else if (arg == "-j" || arg == "--json") {
            inv.json = true;
        } else if (is("--socket") || arg == "-s") {
            auto v = value(arg == "-s" ? "-s" : "--socket");
            if (!v || v->empty()) return UsageError{"--socket needs a path"};
            inv.socket_path = std::string(*v);
            socket_given = true;
        } else if (is("--node") || arg == "-n") {
            auto v = value(arg == "-n" ? "-n" : "--node");
            auto n = v ? parse_number(*v, kMaxNode) : std::nullopt;
            if (!n || *n == 0) return UsageError{"--node needs a node number 1..255"};
            inv.node = static_cast<int>(*n);
        } else if (arg == "--all-nodes" || arg == "-a") {
            inv.all_nodes = true;
        } else if (is("--config") || arg == "-c") {
            auto v = value(arg == "-c" ? "-c" : "--config");
            if (!v || v->empty()) return UsageError{"--config needs a path"};
            inv.config_path = std::string(*v);
        } else if (is("--timeout") || arg == "-t") {
            auto v = value(arg == "-t" ? "-t" : "--timeout");
            if (!v) return UsageError{"--timeout needs a value in milliseconds"};
            auto ms = parse_number(*v, kMaxTimeoutMs);
            if (!ms || *ms == 0)
                return UsageError{"--timeout must be 1.." + std::to_string(kMaxTimeoutMs) + " ms, got '" +
                                  std::string(*v) + "'"};
            inv.timeout_ms = static_cast<int>(*ms);
        } else {
            return UsageError{"unknown option '" + std::string(arg) + "' (try --help)"};
        }
    }

    auto request = build_request(words);
    if (auto* e = std::get_if<UsageError>(&request)) return *e;
    inv.request = std::get<std::string>(std::move(request));
    if ((inv.request == "backends" || inv.request.rfind("backend ", 0) == 0) && !socket_given) {
        inv.socket_path = kDefaultServerSocket;
    }
    if ((inv.request == "failover" || inv.request == "sweep" || inv.request == "summary") && !socket_given) {
        inv.socket_path = kDefaultDaemonSocket;
    }
    if (inv.request.find_first_of("\r\n") != std::string::npos)
        return UsageError{"a request must be a single line"};
    if (inv.all_nodes) {
        // The operator's admin state, on every node at once: node admin/weight to every scheduler (so that it
        // outlives a failover), back-end admin to every DLBA server. The sweep's own verdicts (fail/live) are not.
        const bool node_admin = inv.request.rfind("node ", 0) == 0 && inv.request.find(" fail") == std::string::npos &&
                                inv.request.find(" live") == std::string::npos;
        const bool backend_admin = inv.request.rfind("backend ", 0) == 0;
        if (!node_admin && !backend_admin)
            return UsageError{"--all-nodes takes node N enable|disable|drain|weight W, or backend KEY "
                              "enable|disable|drain"};
        if (inv.node != 0) return UsageError{"--all-nodes and --node exclude each other"};
    }
    return inv;
}

std::string usage_text() {
    return R"(Usage: dlbactl [OPTIONS] COMMAND [ARGS...]

Talks to a DLBA daemon's control socket (by default the scheduler's) and prints its answer.

Options (before or after the command):
  -s, --socket PATH   control socket (default: $DLBA_SOCKET, else /run/dlba/scheduler.sock;
                      /run/dlba/server.sock for `backends`; /run/dlba/dlbad.sock for `failover`,
                      `sweep` and `summary`)
  -n, --node N        read node N's tables from any host: through node N's daemon over its eth0
                      (failover.config_port), read-only commands only (status, hash, counters, sync,
                      failover, sweep, summary, backends)
  -a, --all-nodes     send an admin command to every node of --config through its daemon: `node N
                      enable|disable|drain|weight W` to every scheduler (the state then outlives a failover),
                      `backend KEY enable|disable|drain` to every DLBA server
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
                      weight, open connections, hits, average response time, errors
  backend KEY enable|disable|drain
                      on a DLBA server: drain keeps persistent sessions (SpServer cookies) on the back end but
                      sends it no new ones; disable reroutes everything (default socket /run/dlba/server.sock)
  role active|standby switch this scheduler's role
  node N fail|live    mark node N (1..255) failed (it loses all its buckets at once) or live again
  node N enable|disable|drain
                      take new buckets / lose all buckets now / keep busy buckets but take no new ones
  node N weight W     set node N's weight (an integer >= 0; 0 takes no new buckets)
  config push FILE    validate FILE here, send it to every node's daemon (failover.config_port on each
                      eth0), and only if every node accepts it, replace it everywhere and reload
                      (scheduler and server reload live; the daemon restarts itself); else nothing changes
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
