#include "failover_net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdio>

#include "clock.hpp"
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
    // Room for one sealed heartbeat and more: a longer datagram is cut, and then fails as unsigned.
    char buf[hb::kSize + auth::kOverheadBytes + 64];
    for (;;) {
        sockaddr_in from{};
        socklen_t len = sizeof from;
        const ssize_t n =
            recvfrom(hb_fd_.get(), buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) return;
        const uint32_t from_ip = ntohl(from.sin_addr.s_addr);
        const std::string_view bytes(buf, static_cast<size_t>(n));
        const auto e = auth_.heartbeats.one_way(bytes, auth::Kind::heartbeat, from_ip, auth::unix_us());
        if (!e) {
            if (auth_.heartbeats.last_verdict() == auth::Drop::bad_mac) note_unverified(from_ip);
            continue;
        }
        hb::Refusal why = hb::Refusal::none;
        const auto m = hb::decode(reinterpret_cast<const uint8_t*>(e->payload.data()), e->payload.size(), &why);
        if (!m) {
            note_refused(why, from_ip);
            continue;
        }
        // The sealed node id is the one that counts: a heartbeat whose content claims another node is dropped.
        if (m && m->beat.node == e->header.sender) on_heartbeat(*m, from_ip);
    }
}

// Counted always, logged at most once a minute: a peer on another daemon version sends 20 of these a second.
void FailoverSockets::note_refused(hb::Refusal why, uint32_t from_ip) {
    ++heartbeats_refused_;
    const uint64_t now = clock::monotonic_ms();
    if (refused_logged_ms_ != 0 && now - refused_logged_ms_ < kRefusalLogMs) return;
    refused_logged_ms_ = now;
    std::fprintf(stderr, "<4>dlbad[node %u]: heartbeat from %s refused: %s (this daemon speaks format %u; %llu "
                 "refused so far)\n", self_.number, format_ipv4(from_ip).c_str(), hb::refusal_name(why), hb::kFormat,
                 static_cast<unsigned long long>(heartbeats_refused_));
}

void FailoverSockets::note_unverified(uint32_t from_ip) {
    for (const NodeConfig& n : config_.nodes) {
        if (n.eth0_ip == from_ip) unverified_[n.number] = clock::monotonic_ms();
    }
}

void FailoverSockets::send_heartbeat(const hb::Message& m) {
    const auto beat = hb::encode(m);
    const std::string bytes = auth_.signer.one_way(
        auth::Kind::heartbeat, std::string_view(reinterpret_cast<const char*>(beat.data()), beat.size()));
    for (const NodeConfig& n : config_.nodes) {
        if (n.number == self_.number) continue;
        const sockaddr_in a = io::ipv4_sockaddr(n.eth0_ip, config_.failover.heartbeat_port);
        sendto(hb_fd_.get(), bytes.data(), bytes.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    }
}

}  // namespace dlba::dlbad
