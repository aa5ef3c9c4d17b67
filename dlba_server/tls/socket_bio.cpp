#include "tls/socket_bio.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <new>

namespace dlba::server {

namespace {

struct SocketBioState {
    int fd = -1;
    bool read_short = false;
};

SocketBioState* state(BIO* b) { return static_cast<SocketBioState*>(BIO_get_data(b)); }

bool retryable(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

int bio_read(BIO* b, char* out, size_t len, size_t* got) {
    SocketBioState* s = state(b);
    BIO_clear_retry_flags(b);
    const ssize_t n = ::recv(s->fd, out, len, 0);
    if (n > 0) {
        s->read_short = static_cast<size_t>(n) < len;
        *got = static_cast<size_t>(n);
        return 1;
    }
    *got = 0;
    if (n == 0) {
        BIO_set_flags(b, BIO_FLAGS_IN_EOF);  // as the socket BIO: OpenSSL asks BIO_eof after a failed read
    } else if (retryable(errno)) {
        s->read_short = true;
        BIO_set_retry_read(b);
    }
    return 0;
}

int bio_write(BIO* b, const char* in, size_t len, size_t* put) {
    SocketBioState* s = state(b);
    BIO_clear_retry_flags(b);
    // MSG_NOSIGNAL: a client that went away is an error to handle, not a SIGPIPE.
    const ssize_t n = ::send(s->fd, in, len, MSG_NOSIGNAL);
    if (n >= 0) {
        *put = static_cast<size_t>(n);
        return 1;
    }
    *put = 0;
    if (retryable(errno)) BIO_set_retry_write(b);
    return 0;
}

long bio_ctrl(BIO* b, int cmd, long, void* ptr) {
    switch (cmd) {
        case BIO_CTRL_FLUSH: return 1;  // nothing buffered here
        case BIO_CTRL_EOF: return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
        case BIO_C_GET_FD:  // SSL_get_fd
            if (ptr) *static_cast<int*>(ptr) = state(b)->fd;
            return state(b)->fd;
        default: return 0;
    }
}

int bio_create(BIO* b) {
    auto* s = new (std::nothrow) SocketBioState();
    if (!s) return 0;
    BIO_set_data(b, s);
    BIO_set_init(b, 1);
    return 1;
}

int bio_destroy(BIO* b) {
    delete state(b);
    BIO_set_data(b, nullptr);
    BIO_set_init(b, 0);
    return 1;
}

// Built once, on first use (the first accepted TLS connection; C++ makes the initialisation thread-safe).
const BIO_METHOD* method() {
    static BIO_METHOD* const m = [] {
        BIO_METHOD* meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                        "dlba client socket");
        if (!meth) return meth;
        BIO_meth_set_read_ex(meth, bio_read);
        BIO_meth_set_write_ex(meth, bio_write);
        BIO_meth_set_ctrl(meth, bio_ctrl);
        BIO_meth_set_create(meth, bio_create);
        BIO_meth_set_destroy(meth, bio_destroy);
        return meth;
    }();
    return m;
}

}  // namespace

BIO* new_socket_bio(int fd) {
    const BIO_METHOD* m = method();
    if (!m) return nullptr;
    BIO* b = BIO_new(m);
    if (b) state(b)->fd = fd;
    return b;
}

void socket_bio_clear_short(BIO* bio) { state(bio)->read_short = false; }

bool socket_bio_read_short(BIO* bio) { return state(bio)->read_short; }

}  // namespace dlba::server
