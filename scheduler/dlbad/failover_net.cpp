#include "failover_net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "io/sockaddr.hpp"
#include "io/tcp.hpp"

namespace dlba::dlbad {

bool FailoverSockets::open_heartbeat(std::string* err) {
    hb_fd_ = io::udp_socket(self_.eth0_ip, config_.failover.heartbeat_port, err);
    return static_cast<bool>(hb_fd_);
}

bool FailoverSockets::open_probes(std::string* err) {
    return prober_.open(err) && vip_arp_.open(self_.eth0_ip, config_.vip, err);
}

void FailoverSockets::wait(int timeout_ms, const HeartbeatHandler& on_heartbeat) {
    pollfd fds[3] = {{hb_fd_.get(), POLLIN, 0}, {prober_.fd(), POLLIN, 0}, {vip_arp_.fd(), POLLIN, 0}};
    if (poll(fds, 3, timeout_ms) <= 0) return;
    if (fds[2].revents & POLLIN) vip_arp_.receive();
    if (fds[0].revents & POLLIN) receive_heartbeats(on_heartbeat);
    if (fds[1].revents & POLLIN) prober_.receive();
}

void FailoverSockets::receive_heartbeats(const HeartbeatHandler& on_heartbeat) {
    uint8_t buf[64];
    for (;;) {
        sockaddr_in from{};
        socklen_t len = sizeof from;
        const ssize_t n =
            recvfrom(hb_fd_.get(), buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) return;
        if (const auto m = hb::decode(buf, static_cast<size_t>(n))) on_heartbeat(*m, ntohl(from.sin_addr.s_addr));
    }
}

void FailoverSockets::send_heartbeat(const hb::Message& m) {
    const auto bytes = hb::encode(m);
    for (const NodeConfig& n : config_.nodes) {
        if (n.number == self_.number) continue;
        const sockaddr_in a = io::ipv4_sockaddr(n.eth0_ip, config_.failover.heartbeat_port);
        sendto(hb_fd_.get(), bytes.data(), bytes.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    }
}

}  // namespace dlba::dlbad
