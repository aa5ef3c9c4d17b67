#include "io/sockaddr.hpp"
#include "net/listen_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace dlba::server {

io::Fd bind_listener(const ListenerKey& key, std::string* err) {
    io::Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const int one = 1;
    if (!fd || setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        setsockopt(fd.get(), IPPROTO_IP, IP_FREEBIND, &one, sizeof one) != 0) {
        *err = "listener " + format_listener(key) + ": " + std::strerror(errno);
        return io::Fd();
    }
    const sockaddr_in a = io::ipv4_sockaddr(key.address, key.port);
    if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        *err = "listener " + format_listener(key) + ": " + std::strerror(errno);
        return io::Fd();
    }
    return fd;
}

bool start_listening(int fd, const ListenerKey& key, std::string* err) {
    if (listen(fd, 1024) != 0) {
        *err = "listener " + format_listener(key) + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

}  // namespace dlba::server
