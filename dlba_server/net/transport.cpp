#include "net/transport.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <cerrno>

#include "tls/socket_bio.hpp"

namespace dlba::server {

IoResult socket_read(int fd, char* buf, size_t len) {
    while (true) {
        const ssize_t n = ::recv(fd, buf, len, 0);
        if (n > 0) return {IoStatus::ok, static_cast<size_t>(n)};
        if (n == 0) return {IoStatus::eof, 0};
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoStatus::want_read, 0};
        return {IoStatus::error, 0};
    }
}

IoResult socket_write(int fd, const char* buf, size_t len) {
    while (true) {
        // MSG_NOSIGNAL: a peer that went away is an error to handle, not a SIGPIPE.
        const ssize_t n = ::send(fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0) return {IoStatus::ok, static_cast<size_t>(n)};
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoStatus::want_write, 0};
        return {IoStatus::error, 0};
    }
}

void set_nodelay(int fd) {
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

namespace {

// What an SSL call's return value means for a non-blocking socket.
IoResult tls_status(SSL* ssl, int ret) {
    switch (SSL_get_error(ssl, ret)) {
        case SSL_ERROR_WANT_READ: return {IoStatus::want_read, 0};
        case SSL_ERROR_WANT_WRITE: return {IoStatus::want_write, 0};
        case SSL_ERROR_ZERO_RETURN: return {IoStatus::eof, 0};
        case SSL_ERROR_SYSCALL:
            // A TCP close without close_notify. After a complete request/response that is how most HTTP peers
            // leave, so it is an EOF; the caller decides whether it came at a bad moment.
            if (ERR_peek_error() == 0 && (errno == 0 || errno == ECONNRESET)) {
                return {errno == 0 ? IoStatus::eof : IoStatus::error, 0};
            }
            return {IoStatus::error, 0};
        default: return {IoStatus::error, 0};
    }
}

// Runs one SSL_read_ex / SSL_write_ex / SSL_do_handshake (`call(&n)`) with a clean error queue.
template <class Call>
IoResult tls_call(SSL* ssl, Call call) {
    size_t n = 0;
    // SSL_get_error needs an empty queue before the call. ERR_clear_error wipes all 16 slots of the thread's queue
    // every time; peeking first costs a compare when it is already empty, as it is after every successful call.
    if (ERR_peek_error() != 0) ERR_clear_error();
    errno = 0;
    // Two statements: n must be read after the call (argument evaluation order is unspecified).
    const int ret = call(&n);
    if (ret == 1) return {IoStatus::ok, n};
    return tls_status(ssl, ret);
}

}  // namespace

IoResult tls_read(SSL* ssl, char* buf, size_t len) {
    return tls_call(ssl, [&](size_t* n) { return SSL_read_ex(ssl, buf, len, n); });
}

IoResult tls_write(SSL* ssl, const char* buf, size_t len) {
    return tls_call(ssl, [&](size_t* n) { return SSL_write_ex(ssl, buf, len, n); });
}

IoResult tls_handshake(SSL* ssl) {
    return tls_call(ssl, [&](size_t*) { return SSL_do_handshake(ssl); });
}

IoResult Transport::checked(IoResult r) {
    if (r.status == IoStatus::error) failed_ = true;  // OpenSSL forbids SSL_shutdown after a fatal error
    return r;
}

IoResult Transport::read(char* buf, size_t len) {
    if (!ssl_) return socket_read(fd_.get(), buf, len);
    socket_bio_clear_short(SSL_get_rbio(ssl_.get()));
    return checked(tls_read(ssl_.get(), buf, len));
}

bool Transport::drained(const IoResult& r, size_t want) const {
    if (!ssl_) return r.n < want;
    return socket_bio_read_short(SSL_get_rbio(ssl_.get())) && SSL_has_pending(ssl_.get()) == 0;
}

IoResult Transport::write(const char* buf, size_t len) {
    if (!ssl_) return socket_write(fd_.get(), buf, len);
    return checked(tls_write(ssl_.get(), buf, len));
}

void Transport::close_notify() {
    if (ssl_ && !failed_ && SSL_is_init_finished(ssl_.get()) && !(SSL_get_shutdown(ssl_.get()) & SSL_SENT_SHUTDOWN)) {
        ERR_clear_error();
        SSL_shutdown(ssl_.get());  // best effort: a full socket just means no close_notify
        ERR_clear_error();
    }
}

void Transport::close() {
    close_notify();
    ssl_.reset();
    fd_.reset();
}

}  // namespace dlba::server
