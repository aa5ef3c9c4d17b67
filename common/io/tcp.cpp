#include "io/tcp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "io/sockaddr.hpp"
#include "net_types.hpp"

namespace dlba::io {

namespace {

// Waits for `events` on fd until the deadline; false on timeout or error. Retries on EINTR.
bool wait_for(int fd, short events, Deadline deadline) {
    for (;;) {
        pollfd p{fd, events, 0};
        const int rc = poll(&p, 1, millis_left(deadline));
        if (rc > 0) return true;
        if (rc == 0 || errno != EINTR) return false;
    }
}

Fd bound_socket(int type, uint32_t ip, uint16_t port, std::string* err) {
    Fd fd(socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const int one = 1;
    if (fd && type == SOCK_STREAM) setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const sockaddr_in a = ipv4_sockaddr(ip, port);
    if (!fd || bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) < 0 ||
        (type == SOCK_STREAM && listen(fd.get(), 64) < 0)) {
        *err = std::string(type == SOCK_STREAM ? "tcp " : "udp ") + format_ipv4(ip) + ":" + std::to_string(port) +
               ": " + std::strerror(errno);
        return Fd();
    }
    return fd;
}

}  // namespace

int millis_left(Deadline deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
}

Fd udp_socket(uint32_t bind_ip, uint16_t port, std::string* err) { return bound_socket(SOCK_DGRAM, bind_ip, port, err); }

Fd tcp_listener(uint32_t bind_ip, uint16_t port, std::string* err) {
    return bound_socket(SOCK_STREAM, bind_ip, port, err);
}

Fd tcp_connect(uint32_t ip, uint16_t port, Deadline deadline, std::string* err) {
    Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const sockaddr_in a = ipv4_sockaddr(ip, port);
    if (!fd || (connect(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) < 0 && errno != EINPROGRESS)) {
        if (err) *err = std::string("connect: ") + std::strerror(errno);
        return Fd();
    }
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (!wait_for(fd.get(), POLLOUT, deadline)) {
        if (err) *err = "connect to " + format_ipv4(ip) + ":" + std::to_string(port) + " timed out";
        return Fd();
    }
    if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len) < 0 || so_error != 0) {
        if (err) *err = "connect to " + format_ipv4(ip) + ":" + std::to_string(port) + ": " + std::strerror(so_error);
        return Fd();
    }
    return fd;
}

bool read_exact(int fd, char* out, size_t n, Deadline deadline) {
    size_t got = 0;
    while (got < n) {
        const ssize_t r = read(fd, out + got, n - got);
        if (r > 0) {
            got += static_cast<size_t>(r);
            continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EINTR) || !wait_for(fd, POLLIN, deadline)) return false;
    }
    return true;
}

bool read_line(int fd, std::string& line, size_t max, Deadline deadline) {
    char c = 0;
    while (line.size() <= max) {
        if (!read_exact(fd, &c, 1, deadline)) return false;
        if (c == '\n') return true;
        line.push_back(c);
    }
    return false;
}

std::optional<std::string> read_to_eof(int fd, size_t max, Deadline deadline, std::string* err) {
    std::string out;
    char buf[8192];
    for (;;) {
        const ssize_t r = read(fd, buf, sizeof buf);
        if (r == 0) return out;
        if (r > 0) {
            out.append(buf, static_cast<size_t>(r));
            if (out.size() > max) {
                if (err) *err = "answer too large";
                return std::nullopt;
            }
            continue;
        }
        if ((errno != EAGAIN && errno != EINTR) || !wait_for(fd, POLLIN, deadline)) {
            if (err) *err = errno == EAGAIN ? "answer timed out" : std::string("read: ") + std::strerror(errno);
            return std::nullopt;
        }
    }
}

bool write_all(int fd, std::string_view data, Deadline deadline) {
    size_t done = 0;
    while (done < data.size()) {
        const ssize_t w = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (w > 0) {
            done += static_cast<size_t>(w);
            continue;
        }
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || !wait_for(fd, POLLOUT, deadline)) return false;
    }
    return true;
}

std::optional<std::string> tcp_fetch(uint32_t ip, uint16_t port, int timeout_ms, size_t max_bytes, std::string* err) {
    const Deadline deadline = deadline_in(timeout_ms);
    Fd fd = tcp_connect(ip, port, deadline, err);
    if (!fd) return std::nullopt;
    return read_to_eof(fd.get(), max_bytes, deadline, err);
}

bool tcp_probe(uint32_t ip, uint16_t port, int timeout_ms) {
    return static_cast<bool>(tcp_connect(ip, port, deadline_in(timeout_ms), nullptr));
}

}  // namespace dlba::io
