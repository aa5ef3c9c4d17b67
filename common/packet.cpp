#include "packet.hpp"

namespace dlba::pkt {

namespace {

// ICMP message types (RFC 792) the classifier tells apart.
enum IcmpType : uint8_t {
    kIcmpEchoReply = 0,
    kIcmpUnreachable = 3,
    kIcmpEchoRequest = 8,
    kIcmpTimeExceeded = 11,
    kIcmpParamProblem = 12,
};
constexpr uint32_t kArpLength = 28;

Classified dropped(Classified c, Drop reason) {
    c.action = Action::drop;
    c.drop = reason;
    return c;
}

bool is_broadcast(const uint8_t* mac) {
    return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

Classified classify_arp(Classified c, const uint8_t* frame, uint32_t len, const ClassifierConfig& cfg) {
    const uint32_t off = c.l3_offset;
    if (len < off + kArpLength) return dropped(c, Drop::truncated);
    const uint8_t* arp = frame + off;
    const bool ethernet_ipv4 = load16(arp) == 1 && load16(arp + 2) == kEtherIpv4 && arp[4] == 6 && arp[5] == 4;
    if (!ethernet_ipv4 || load16(arp + 6) != 1) return dropped(c, Drop::arp_ignored);
    const uint32_t sender = load32(arp + 14);
    const uint32_t target = load32(arp + 24);
    if (sender == target) return dropped(c, Drop::arp_ignored);  // someone else's announcement
    if (target == cfg.sched_ip || (cfg.active && (target == cfg.vip || cfg.direct_slot(target) != 0))) {
        c.action = Action::arp_reply;
        return c;
    }
    return dropped(c, Drop::arp_ignored);
}

// An ICMP error to the VIP quotes the header of a packet the array sent: VIP:service -> client:port. The client side
// of that quote is the bucket key, so the error reaches the node that owns the connection (e.g. "fragmentation
// needed" for path MTU discovery).
Classified classify_icmp_error(Classified c, const uint8_t* quote, uint32_t quote_len, const ClassifierConfig& cfg) {
    if (quote_len < 20) return dropped(c, Drop::truncated);
    const uint32_t ihl = (quote[0] & 0x0f) * 4u;
    if (quote[0] >> 4 != 4 || ihl < 20) return dropped(c, Drop::icmp_error_unmatched);
    if (quote_len < ihl + 8) return dropped(c, Drop::truncated);
    const uint8_t proto = quote[9];
    const uint32_t quoted_src = load32(quote + 12);
    if (quoted_src != cfg.vip) c.direct = cfg.direct_slot(quoted_src);
    if ((quoted_src != cfg.vip && c.direct == 0) || (proto != kProtoTcp && proto != kProtoUdp)) {
        return dropped(c, Drop::icmp_error_unmatched);
    }
    const uint16_t service_port = load16(quote + ihl);
    const PortSet& ports = proto == kProtoTcp ? cfg.tcp_ports : cfg.udp_ports;
    if (!ports.contains(service_port)) return dropped(c, Drop::icmp_error_unmatched);
    c.key_ip = load32(quote + 16);
    c.key_port = load16(quote + ihl + 2);
    c.action = Action::forward_icmp_error;
    return c;
}

}  // namespace

const char* drop_name(Drop reason) {
    switch (reason) {
        case Drop::none: return "none";
        case Drop::not_for_us: return "not_for_us";
        case Drop::truncated: return "truncated";
        case Drop::vlan_stacked: return "vlan_stacked";
        case Drop::non_ip: return "non_ip";
        case Drop::arp_ignored: return "arp_ignored";
        case Drop::bad_ip_header: return "bad_ip_header";
        case Drop::not_our_ip: return "not_our_ip";
        case Drop::standby: return "standby";
        case Drop::vip_protocol: return "vip_protocol";
        case Drop::vip_port: return "vip_port";
        case Drop::vip_icmp: return "vip_icmp";
        case Drop::icmp_error_unmatched: return "icmp_error_unmatched";
        case Drop::fragment_unmatched: return "fragment_unmatched";
        case Drop::sched_ip_other: return "sched_ip_other";
        case Drop::no_node: return "no_node";
        case Drop::count_: break;
    }
    return "?";
}

Classified classify(const uint8_t* frame, uint32_t len, const ClassifierConfig& cfg) {
    Classified c;
    if (len < 14) return dropped(c, Drop::truncated);
    const bool broadcast = is_broadcast(frame);
    const bool ours = std::memcmp(frame, cfg.port_mac.bytes.data(), 6) == 0;
    if (!ours && !broadcast) return dropped(c, Drop::not_for_us);

    uint16_t ether_type = load16(frame + 12);
    c.l3_offset = 14;
    if (ether_type == kEtherVlan) {
        // One 802.1Q tag is carried through untouched (only the MACs in front of it are rewritten).
        if (len < 18) return dropped(c, Drop::truncated);
        ether_type = load16(frame + 16);
        c.l3_offset = 18;
        if (ether_type == kEtherVlan || ether_type == kEtherQinQ) return dropped(c, Drop::vlan_stacked);
    } else if (ether_type == kEtherQinQ) {
        return dropped(c, Drop::vlan_stacked);
    }

    if (ether_type == kEtherArp) return classify_arp(c, frame, len, cfg);
    if (ether_type != kEtherIpv4) return dropped(c, Drop::non_ip);
    if (!ours) return dropped(c, Drop::not_for_us);  // broadcast IPv4 is never for the VIP

    const uint32_t off = c.l3_offset;
    if (len < off + 20) return dropped(c, Drop::truncated);
    const uint8_t* ip = frame + off;
    const uint32_t ihl = (ip[0] & 0x0f) * 4u;
    const uint32_t total = load16(ip + 2);
    if (ip[0] >> 4 != 4 || ihl < 20 || total < ihl) return dropped(c, Drop::bad_ip_header);
    if (len < off + total) return dropped(c, Drop::truncated);  // padding beyond `total` is fine

    const uint8_t proto = ip[9];
    const uint32_t src = load32(ip + 12);
    const uint32_t dst = load32(ip + 16);
    const uint16_t frag_field = load16(ip + 6);
    const bool more_fragments = frag_field & 0x2000;
    const uint16_t frag_offset = frag_field & 0x1fff;
    const uint8_t* l4 = ip + ihl;
    const uint32_t l4_len = total - ihl;

    if (dst == cfg.sched_ip) {
        // The scheduler-port IP exists so peers can check that this data plane is alive: echo only.
        if (proto == kProtoIcmp && frag_offset == 0 && !more_fragments && l4_len >= 8 && l4[0] == kIcmpEchoRequest) {
            c.action = Action::echo_reply;
            return c;
        }
        return dropped(c, Drop::sched_ip_other);
    }
    if (dst != cfg.vip) {
        c.direct = cfg.direct_slot(dst);  // a node's direct IP: handled like the VIP, routed by the forwarder
        if (c.direct == 0) return dropped(c, Drop::not_our_ip);
    }
    if (!cfg.active) return dropped(c, Drop::standby);

    if (proto == kProtoTcp || proto == kProtoUdp) {
        if (frag_offset != 0) {
            // No ports here: follow the decision made for the first fragment of the same datagram.
            c.frag = {src, dst, load16(ip + 4), proto};
            c.action = Action::forward_later_fragment;
            return c;
        }
        if (l4_len < 4) return dropped(c, Drop::truncated);
        const uint16_t dport = load16(l4 + 2);
        if (!(proto == kProtoTcp ? cfg.tcp_ports : cfg.udp_ports).contains(dport)) return dropped(c, Drop::vip_port);
        c.key_ip = src;
        c.key_port = load16(l4);
        if (more_fragments) {
            c.frag = {src, dst, load16(ip + 4), proto};
            c.action = Action::forward_first_fragment;
        } else {
            c.action = Action::forward;
        }
        return c;
    }
    if (proto == kProtoIcmp) {
        if (frag_offset != 0 || more_fragments) return dropped(c, Drop::vip_icmp);
        if (l4_len < 8) return dropped(c, Drop::truncated);
        const uint8_t type = l4[0];
        if (type == kIcmpEchoRequest) {
            c.action = Action::echo_reply;
            return c;
        }
        if (type == kIcmpUnreachable || type == kIcmpTimeExceeded || type == kIcmpParamProblem) {
            return classify_icmp_error(c, l4 + 8, l4_len - 8, cfg);
        }
        return dropped(c, Drop::vip_icmp);
    }
    return dropped(c, Drop::vip_protocol);
}

void make_arp_reply(uint8_t* frame, uint16_t l3_offset, const MacAddr& our_mac) {
    uint8_t* arp = frame + l3_offset;
    uint8_t requester_mac[6];
    std::memcpy(requester_mac, arp + 8, 6);
    const uint32_t requester_ip = load32(arp + 14);
    const uint32_t asked_ip = load32(arp + 24);
    std::memcpy(frame, requester_mac, 6);
    std::memcpy(frame + 6, our_mac.bytes.data(), 6);
    store16(arp + 6, 2);  // reply
    std::memcpy(arp + 8, our_mac.bytes.data(), 6);
    store32(arp + 14, asked_ip);
    std::memcpy(arp + 18, requester_mac, 6);
    store32(arp + 24, requester_ip);
}

void make_echo_reply(uint8_t* frame, uint16_t l3_offset, const MacAddr& our_mac) {
    std::memcpy(frame, frame + 6, 6);
    std::memcpy(frame + 6, our_mac.bytes.data(), 6);
    uint8_t* ip = frame + l3_offset;
    const uint32_t ihl = (ip[0] & 0x0f) * 4u;
    const uint32_t total = load16(ip + 2);
    const uint32_t src = load32(ip + 12);
    store32(ip + 12, load32(ip + 16));
    store32(ip + 16, src);
    ip[8] = 64;  // fresh TTL
    store16(ip + 10, 0);
    store16(ip + 10, inet_checksum(ip, ihl));
    uint8_t* icmp = ip + ihl;
    icmp[0] = kIcmpEchoReply;
    store16(icmp + 2, 0);
    store16(icmp + 2, inet_checksum(icmp, total - ihl));
}

void build_arp_request(uint8_t* out, const MacAddr& mac, uint32_t sender_ip, uint32_t target_ip) {
    std::memset(out, 0, kGarpLength);
    std::memset(out, 0xff, 6);
    std::memcpy(out + 6, mac.bytes.data(), 6);
    store16(out + 12, kEtherArp);
    uint8_t* arp = out + 14;
    store16(arp, 1);
    store16(arp + 2, kEtherIpv4);
    arp[4] = 6;
    arp[5] = 4;
    store16(arp + 6, 1);  // request (RFC 5227 announcements are requests too, with sender = target)
    std::memcpy(arp + 8, mac.bytes.data(), 6);
    store32(arp + 14, sender_ip);
    store32(arp + 24, target_ip);  // target MAC left zero
}

uint16_t inet_checksum(const uint8_t* data, size_t len, uint32_t initial) {
    uint64_t sum = initial;
    size_t i = 0;
    for (; i + 1 < len; i += 2) sum += load16(data + i);
    if (i < len) sum += static_cast<uint32_t>(data[i]) << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

}  // namespace dlba::pkt
