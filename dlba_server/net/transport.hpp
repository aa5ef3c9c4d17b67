// A client connection's byte stream: a plain TCP socket or TLS over it. The session's state machine calls read()
// and write() the same way for both; TLS may need the socket writable to read (handshake, key update) or readable
// to write, which want_read / want_write report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "io/fd.hpp"
#include "tls/tls_context.hpp"

namespace dlba::server {

enum class IoStatus : uint8_t {
    ok,          // n bytes moved (n > 0)
    want_read,   // try again when the socket is readable
    want_write,  // try again when the socket is writable
    eof,         // the peer closed its side (TLS: close_notify, or a TCP close where one was allowed)
    error,       // reset, TLS failure: close the connection
};

struct IoResult {
    IoStatus status = IoStatus::error;
    size_t n = 0;
};

class Transport {
public:
    Transport() = default;
    // `context` is the TlsContext `ssl` was made from: kept alive with the connection, because its ticket-key
    // callback finds it through the SSL_CTX, and a reload may let go of the generation that held it.
    Transport(io::Fd fd, SslPtr ssl, std::shared_ptr<const TlsContext> context = nullptr)
        : context_(std::move(context)), fd_(std::move(fd)), ssl_(std::move(ssl)) {}

    int fd() const { return fd_.get(); }
    bool tls() const { return ssl_ != nullptr; }
    SSL* ssl() const { return ssl_.get(); }
    // The first handshake is over. Not SSL_is_init_finished alone: OpenSSL is "in init" again while it sends a
    // TLS 1.3 ticket asked for later (SSL_new_session_ticket, TLS-session affinity), and that is no handshake to time
    // out. The client's Finished is the last message of every server-side handshake (full or resumed, 1.2 or 1.3).
    bool handshake_done() const {
        if (!ssl_ || SSL_is_init_finished(ssl_.get())) return true;
        unsigned char finished[1];
        return SSL_get_peer_finished(ssl_.get(), finished, sizeof finished) > 0;
    }

    IoResult read(char* buf, size_t len);
    // After a read of `want` bytes that returned ok `r`: whether the socket's receive queue is known to be empty
    // (and, under TLS, nothing is left in OpenSSL's buffers), so that the next read could only want more. Plain: the
    // read was short. TLS: the recv inside it was short and no record bytes or plaintext are pending.
    bool drained(const IoResult& r, size_t want) const;
    IoResult write(const char* buf, size_t len);

    // TLS: sends close_notify (best effort, without waiting for the peer's). Plain: nothing.
    void close_notify();
    // close_notify(), then closes the socket.
    void close();

private:
    IoResult checked(IoResult r);  // notes a fatal error

    std::shared_ptr<const TlsContext> context_;  // declared first: outlives the SSL
    io::Fd fd_;
    SslPtr ssl_;
    bool failed_ = false;
};

// One TLS call on a non-blocking socket, its result mapped (shared with back-end connections). A handshake that
// completes is ok with n = 0.
IoResult tls_read(SSL* ssl, char* buf, size_t len);
IoResult tls_write(SSL* ssl, const char* buf, size_t len);
IoResult tls_handshake(SSL* ssl);

// Plain socket helpers shared with back-end connections.
IoResult socket_read(int fd, char* buf, size_t len);
IoResult socket_write(int fd, const char* buf, size_t len);
// Small requests and answer heads go out at once (the proxy writes whole heads, never byte by byte).
void set_nodelay(int fd);

}  // namespace dlba::server
