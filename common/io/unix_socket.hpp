// The control/monitoring socket: one request line in, one response out, then the connection is closed.
//
// The server never runs a thread of its own: the owner (the scheduler's control thread, a node daemon) calls
// poll_once() in its loop and the handler runs on the owner's thread, so the handler needs no locks. Every
// client is bounded in size and time, so a stuck or hostile client delays the owner by at most the deadlines.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "io/fd.hpp"

namespace dlba::io {

struct ControlServerLimits {
    size_t max_request_bytes = 64 * 1024;  // the request line, newline excluded
    std::chrono::milliseconds read_deadline{1000};   // from accept to a complete request line
    std::chrono::milliseconds write_deadline{2000};  // from the handler's return to the last byte written
    size_t max_clients_per_poll = 64;      // served per poll_once(); the rest wait in the listen backlog
};

class ControlServer {
public:
    using Handler = std::function<std::string(std::string_view request)>;

    explicit ControlServer(std::string path, ControlServerLimits limits = {});
    ~ControlServer();  // removes the socket file, if it is still the one this server bound
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // Creates the parent directory (0755) if missing, replaces a stale socket file nobody answers on, refuses
    // when a live process listens on the path or the path is not a socket, and listens with mode 0660.
    bool start(std::string* err);

    // Waits up to timeout_ms for clients, then serves every client already waiting: reads one request line,
    // calls handler(line) and writes its result back. Oversized, unterminated or slow requests get a dlba-reply
    // error instead of reaching the handler. Returns within timeout_ms + read_deadline + write_deadline plus the
    // handler's own time.
    void poll_once(int timeout_ms, const Handler& handler);

    const std::string& path() const { return path_; }
    int fd() const { return listen_fd_.get(); }  // readable when a client waits, for callers with their own poll

private:
    std::string path_;
    ControlServerLimits limits_;
    Fd listen_fd_;
    dev_t bound_dev_ = 0;  // identity of the socket file we created, so we never unlink a successor's
    ino_t bound_ino_ = 0;
};

// The client side: connects to `path`, sends `line` + '\n', and returns everything the server writes until it
// closes the connection. On failure returns nullopt and a message for an operator in *err, e.g.
// "no such socket: /run/dlba/scheduler.sock (is the daemon running?)". When the connect itself failed,
// *connect_errno (if given) gets its errno, so a caller can tell "nobody listens" (ENOENT, ECONNREFUSED) from a slow
// server; it is 0 otherwise.
std::optional<std::string> request(const std::string& path, std::string_view line, int timeout_ms,
                                   std::string* err, int* connect_errno = nullptr);

}  // namespace dlba::io
