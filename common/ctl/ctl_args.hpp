// dlbactl's command line, parsed and checked before anything is sent, so that a typo never reaches a daemon.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "protocol/request.hpp"

namespace dlba::ctl {

inline constexpr int kDefaultTimeoutMs = 5000;

// Exit codes, also listed in --help.
enum ExitCode : int {
    kExitOk = 0,
    kExitDaemonError = 1,  // the daemon answered with an error, or with something that is not a valid answer
    kExitUsage = 2,
    kExitUnreachable = 3,  // no socket, refused, permission denied, timed out
};

struct Invocation {
    std::string socket_path;
    bool json = false;
    int timeout_ms = kDefaultTimeoutMs;
    std::string request;  // the line sent to the daemon, e.g. "node 2 weight 3"
    std::optional<proto::Request> command;  // that request, typed; none for `raw` (sent as typed, unchecked)
    std::string push_file;                  // `config push FILE`: nothing is sent to a socket
    int node = 0;         // --node N: read node N's tables through its node daemon (over its eth0), not a socket
    std::string config_path = "/etc/dlba/dlba.conf";  // --config: where --node finds node N's address
    bool all_nodes = false;  // --all-nodes: an admin command (node/backend) sent to every node's daemon
    bool keygen = false;     // `keygen`: print a fresh peer key (failover.peer_keys); nothing is sent
    // `top`: live rates from two samples (ctl/top.hpp) of the scheduler's status (socket_path) and the server's
    // backends (server_socket), --interval apart, --count rounds.
    bool top = false;
    int top_interval_ms = 1000;
    int top_count = 1;
    std::string server_socket;
};

struct ShowHelp {};

struct UsageError {
    std::string message;
};

using ParseResult = std::variant<Invocation, ShowHelp, UsageError>;

// `env_socket` is $DLBA_SOCKET (nullptr or empty when unset); --socket wins over it.
ParseResult parse_args(int argc, const char* const* argv, const char* env_socket);

std::string usage_text();

}  // namespace dlba::ctl
