#include "io/sockaddr.hpp"
#include "icmp_probe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "packet.hpp"

namespace dlba::dlbad {

bool IcmpProber::open(std::string* err) {
    fd_.reset(socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP));
    if (!fd_) {
        *err = std::string("raw ICMP socket (needs CAP_NET_RAW): ") + std::strerror(errno);
        return false;
    }
    id_ = static_cast<uint16_t>(getpid() ^ 0x5a5a);
    return true;
}

void IcmpProber::send_round(const std::map<uint16_t, uint32_t>& targets) {
    seq_of_.clear();
    answered_.clear();
    for (const auto& [node, ip] : targets) {
        uint8_t pkt_bytes[16] = {8, 0, 0, 0};
        pkt::store16(pkt_bytes + 4, id_);
        pkt::store16(pkt_bytes + 6, ++seq_);
        pkt::store16(pkt_bytes + 8, node);
        pkt::store16(pkt_bytes + 2, pkt::inet_checksum(pkt_bytes, sizeof pkt_bytes));
        const sockaddr_in a = io::ipv4_sockaddr(ip);
        sendto(fd_.get(), pkt_bytes, sizeof pkt_bytes, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&a), sizeof a);
        seq_of_[node] = seq_;
        answered_[node] = false;
    }
}

void IcmpProber::receive() {
    uint8_t buf[1500];
    for (;;) {
        const ssize_t n = recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) return;
        if (n < 20) continue;
        const size_t ihl = (buf[0] & 0x0f) * 4u;
        if (static_cast<size_t>(n) < ihl + 10) continue;
        const uint8_t* icmp = buf + ihl;
        if (icmp[0] != 0 || pkt::load16(icmp + 4) != id_) continue;  // only echo replies to our own requests
        const uint16_t seq = pkt::load16(icmp + 6);
        const uint16_t node = pkt::load16(icmp + 8);
        auto it = seq_of_.find(node);
        if (it != seq_of_.end() && it->second == seq) answered_[node] = true;
    }
}

bool IcmpProber::answered(uint16_t node) const {
    auto it = answered_.find(node);
    return it != answered_.end() && it->second;
}

}  // namespace dlba::dlbad
