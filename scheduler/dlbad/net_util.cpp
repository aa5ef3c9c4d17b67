#include "net_util.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "net_types.hpp"

namespace dlba::dlbad {

namespace {

sockaddr_in address(uint32_t ip, uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(ip);
    a.sin_port = htons(port);
    return a;
}

int left_ms(SteadyClock::time_point deadline) {
    const auto l = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
    return l < 0 ? 0 : static_cast<int>(l);
}

io::Fd connect_with_deadline(uint32_t ip, uint16_t port, SteadyClock::time_point deadline, std::string* err) {
    io::Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const sockaddr_in a = address(ip, port);
    if (!fd || (connect(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) < 0 && errno != EINPROGRESS)) {
        if (err) *err = std::string("connect: ") + std::strerror(errno);
        return io::Fd();
    }
    pollfd p{fd.get(), POLLOUT, 0};
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (poll(&p, 1, left_ms(deadline)) <= 0) {
        if (err) *err = "connect timed out";
        return io::Fd();
    }
    if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len) < 0 || so_error != 0) {
        if (err) *err = std::string("connect: ") + std::strerror(so_error);
        return io::Fd();
    }
    return fd;
}

}  // namespace

uint64_t now_ms() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

uint64_t unix_now() { return static_cast<uint64_t>(std::time(nullptr)); }

io::Fd udp_socket(uint32_t bind_ip, uint16_t port, std::string* err) {
    io::Fd fd(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const sockaddr_in a = address(bind_ip, port);
    if (!fd || bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) < 0) {
        *err = "udp " + format_ipv4(bind_ip) + ":" + std::to_string(port) + ": " + std::strerror(errno);
        return io::Fd();
    }
    return fd;
}

io::Fd tcp_listener(uint32_t bind_ip, uint16_t port, std::string* err) {
    io::Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const int one = 1;
    if (fd) setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const sockaddr_in a = address(bind_ip, port);
    if (!fd || bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) < 0 || listen(fd.get(), 64) < 0) {
        *err = "tcp " + format_ipv4(bind_ip) + ":" + std::to_string(port) + ": " + std::strerror(errno);
        return io::Fd();
    }
    return fd;
}

std::optional<std::string> tcp_fetch(uint32_t ip, uint16_t port, int timeout_ms, size_t max_bytes, std::string* err) {
    const auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
    io::Fd fd = connect_with_deadline(ip, port, deadline, err);
    if (!fd) return std::nullopt;
    std::string out;
    char buf[8192];
    for (;;) {
        pollfd p{fd.get(), POLLIN, 0};
        const int rc = poll(&p, 1, left_ms(deadline));
        if (rc <= 0) {
            if (rc < 0 && errno == EINTR) continue;
            if (err) *err = "answer timed out";
            return std::nullopt;
        }
        const ssize_t r = read(fd.get(), buf, sizeof buf);
        if (r == 0) return out;
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            if (err) *err = std::string("read: ") + std::strerror(errno);
            return std::nullopt;
        }
        out.append(buf, static_cast<size_t>(r));
        if (out.size() > max_bytes) {
            if (err) *err = "answer too large";
            return std::nullopt;
        }
    }
}

bool write_all(int fd, const std::string& data, int timeout_ms) {
    const auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
    size_t done = 0;
    while (done < data.size()) {
        const ssize_t w = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (w > 0) {
            done += static_cast<size_t>(w);
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR) return false;
        pollfd p{fd, POLLOUT, 0};
        if (poll(&p, 1, left_ms(deadline)) <= 0) return false;
    }
    return true;
}

bool tcp_probe(uint32_t ip, uint16_t port, int timeout_ms) {
    return static_cast<bool>(
        connect_with_deadline(ip, port, SteadyClock::now() + std::chrono::milliseconds(timeout_ms), nullptr));
}

}  // namespace dlba::dlbad
