// One back end's active check or load-agent exchange: a small state machine over one non-blocking socket, driven
// by the checker thread's epoll (health/health_checker.hpp). Everything it needs is made once, when the checker
// takes a configuration generation: the request text, the read buffer, the response-head scanner. A check is then
// socket + connect + (TLS) + write + read + close, with no allocation of its own (OpenSSL allocates its SSL and
// buffers per TLS handshake, as for any TLS connection).
//
//   check: GET PATH HTTP/1.1 with Host and "Connection: close"; the answer's status line and head are held to the
//          proxy's own rules (common/http/response_scanner); success is the expected status (any 2xx/3xx without
//          expect_status). The body is not read.
//   agent: connect to the back end's address on agent.port and read one line (common/http/agent_line); a
//          malformed line, or no line, is counted in agent_errors and changes nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "config/backends_section.hpp"
#include "http/response_scanner.hpp"
#include "io/fd.hpp"
#include "policy/backend_state.hpp"
#include "tls/backend_tls.hpp"

namespace dlba::server {

class Probe {
public:
    enum class Kind : uint8_t { check, agent };

    // `tls`: the back end's TLS context when it speaks TLS (checks only; the agent is plain TCP).
    Probe(Kind kind, std::shared_ptr<BackendState> state, const BackendConfig& config,
          std::shared_ptr<const BackendTlsContext> tls);
    Probe(const Probe&) = delete;
    Probe& operator=(const Probe&) = delete;
    ~Probe();

    Kind kind() const { return kind_; }
    BackendState& state() const { return *state_; }
    uint32_t interval_ms() const { return interval_ms_; }
    bool running() const { return fd_.valid(); }
    int64_t deadline_ms() const { return deadline_ms_; }

    int64_t next_ms = 0;  // when the next exchange starts (the checker sets it, jittered)

    // Starts an exchange (the socket is added to `epoll_fd` with this probe as its data). It may end at once (a
    // refused connect, no descriptor): running() is false then and the outcome is recorded.
    void start(int epoll_fd, int64_t now_ms);
    // The socket is ready (`events` from epoll).
    void on_ready(int epoll_fd, uint32_t events);
    // The deadline passed while running.
    void on_timeout(int epoll_fd);
    // Stops without recording anything (the checker is stopping or the generation changed).
    void abort(int epoll_fd);

    // What the last exchange found (for the log line when a verdict changes).
    const char* last_outcome() const { return last_outcome_; }

private:
    enum class Step : uint8_t { idle, connecting, handshake, writing, reading };

    void advance(int epoll_fd);
    void want(int epoll_fd, uint32_t events);
    void finish(int epoll_fd, bool ok, CheckFailure why, uint16_t status = 0);
    void finish_agent(int epoll_fd, bool closed);
    void close_socket(int epoll_fd);
    // Bytes in: returns >0 read, 0 at EOF, -1 would block (interest set), -2 error.
    long read_some(int epoll_fd);

    Kind kind_;
    std::shared_ptr<BackendState> state_;
    std::shared_ptr<const BackendTlsContext> tls_;
    uint32_t address_;
    uint16_t port_;
    uint32_t interval_ms_;
    uint32_t timeout_ms_;
    uint32_t rise_ = 1, fall_ = 1;
    uint16_t expect_status_ = 0;
    std::string request_;  // built once
    std::string sni_;
    http::ResponseHeadScanner scanner_;
    char buf_[2048];
    size_t have_ = 0;  // agent: bytes of the line so far
    size_t written_ = 0;

    io::Fd fd_;
    SslPtr ssl_;
    Step step_ = Step::idle;
    uint32_t interest_ = 0;
    int64_t deadline_ms_ = 0;
    const char* last_outcome_ = "none";
};

}  // namespace dlba::server
