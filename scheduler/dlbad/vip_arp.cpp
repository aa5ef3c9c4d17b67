#include "vip_arp.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "packet.hpp"

namespace dlba::dlbad {

namespace {

constexpr size_t kArpFrame = 42;  // Ethernet header + ARP for IPv4 over Ethernet

// The name of the interface that holds `ip`, or "".
std::string interface_with(uint32_t ip) {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return "";
    std::string name;
    for (ifaddrs* a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
        if (ntohl(reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr) == ip) {
            name = a->ifa_name;
            break;
        }
    }
    freeifaddrs(list);
    return name;
}

}  // namespace

bool VipArpWatcher::open(uint32_t eth0_ip, uint32_t vip, std::string* err) {
    ip_ = eth0_ip;
    vip_ = vip;
    ifname_ = interface_with(eth0_ip);
    if (ifname_.empty()) {
        *err = "VIP ARP check: no interface holds " + format_ipv4(eth0_ip);
        return false;
    }
    fd_.reset(socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ARP)));
    if (!fd_) {
        *err = std::string("VIP ARP check: packet socket (needs CAP_NET_RAW): ") + std::strerror(errno);
        return false;
    }
    ifreq req{};
    std::strncpy(req.ifr_name, ifname_.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd_.get(), SIOCGIFINDEX, &req) != 0) {
        *err = "VIP ARP check: " + ifname_ + ": " + std::strerror(errno);
        return false;
    }
    ifindex_ = req.ifr_ifindex;
    if (ioctl(fd_.get(), SIOCGIFHWADDR, &req) != 0) {
        *err = "VIP ARP check: " + ifname_ + " MAC: " + std::strerror(errno);
        return false;
    }
    std::memcpy(mac_.bytes.data(), req.ifr_hwaddr.sa_data, 6);
    sockaddr_ll at{};
    at.sll_family = AF_PACKET;
    at.sll_protocol = htons(ETH_P_ARP);
    at.sll_ifindex = ifindex_;
    if (bind(fd_.get(), reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0) {
        *err = "VIP ARP check: bind to " + ifname_ + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

void VipArpWatcher::next_round() {
    last_.swap(current_);
    current_.clear();
    ++rounds_;
    uint8_t f[pkt::kGarpLength];
    pkt::build_arp_request(f, mac_, ip_, vip_);
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = ifindex_;
    to.sll_halen = 6;
    std::memset(to.sll_addr, 0xff, 6);
    sendto(fd_.get(), f, sizeof f, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to), sizeof to);
}

void VipArpWatcher::receive() {
    uint8_t f[128];
    for (;;) {
        const ssize_t n = recv(fd_.get(), f, sizeof f, MSG_DONTWAIT);
        if (n < 0) return;
        if (static_cast<size_t>(n) < kArpFrame || pkt::load16(f + 12) != ETH_P_ARP) continue;
        const uint8_t* arp = f + 14;
        if (pkt::load16(arp) != 1 || pkt::load16(arp + 2) != ETH_P_IP || arp[4] != 6 || arp[5] != 4) continue;
        const uint16_t op = pkt::load16(arp + 6);
        const uint32_t sender_ip = pkt::load32(arp + 14);
        const uint32_t target_ip = pkt::load32(arp + 24);
        if (sender_ip != vip_) continue;
        // A reply from the VIP (to us or to anyone: the router's own requests count too), or an announcement.
        const bool reply = op == 2;
        const bool announcement = op == 1 && target_ip == vip_;
        if (!reply && !announcement) continue;
        MacAddr m;
        std::memcpy(m.bytes.data(), arp + 8, 6);
        if (std::find(current_.begin(), current_.end(), m) == current_.end()) current_.push_back(m);
    }
}

}  // namespace dlba::dlbad
