// The one builder of socket addresses from the array's host-order IPv4 addresses and ports.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>

namespace dlba::io {

inline sockaddr_in ipv4_sockaddr(uint32_t ip, uint16_t port = 0) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(ip);
    a.sin_port = htons(port);
    return a;
}

}  // namespace dlba::io
