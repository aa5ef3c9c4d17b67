// What the scheduler does with one Ethernet frame, decided from its bytes alone (no DPDK here, so the same code is
// unit-tested, fuzzed and benchmarked without a port). Frames are read and, for the few answers the scheduler gives
// itself (ARP, ICMP echo), rewritten in place.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <cstring>
#include <memory>

#include "net_types.hpp"
#include "wire.hpp"

namespace dlba::pkt {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherArp = 0x0806;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinQ = 0x88a8;
constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;

// Frames are big-endian: the byte helpers are the wire format's (common/wire.hpp).
using wire::load16;
using wire::load32;
using wire::store16;
using wire::store32;

enum class Action : uint8_t {
    forward,          // VIP traffic: steer by (key_ip, key_port) through the bucket table
    forward_first_fragment,  // as forward, and remember the choice for the later fragments of this datagram
    forward_later_fragment,  // no ports: follow the first fragment's choice (frag key)
    forward_icmp_error,      // ICMP error about a client connection: steer by the embedded header, never assign
    arp_reply,        // ARP request for the VIP or a direct IP (active only) or the scheduler-port IP: answer in place
    echo_reply,       // ICMP echo request for the scheduler-port IP (or the VIP or a direct IP when active)
    drop,
};

// Every reason a frame is dropped, one counter each. Names are what `dlbactl counters` prints.
enum class Drop : uint8_t {
    none = 0,
    not_for_us,        // destination MAC neither ours nor broadcast (the port sees flooded traffic)
    truncated,         // frame shorter than the headers it claims
    vlan_stacked,      // QinQ or more than one 802.1Q tag
    non_ip,            // neither IPv4 nor ARP (IPv6, LLDP, ...)
    arp_ignored,       // ARP that is not a request for an address we answer
    bad_ip_header,     // version != 4, IHL < 5, total length below the header, header checksum not checked
    not_our_ip,        // IPv4 to neither the VIP nor the scheduler-port IP
    standby,           // VIP traffic reaching a standby scheduler
    vip_protocol,      // to the VIP with a protocol other than TCP, UDP, ICMP
    vip_port,          // TCP/UDP to the VIP on a port not configured
    vip_icmp,          // ICMP to the VIP that is neither an error about a client connection nor an echo
    icmp_error_unmatched,  // ICMP error whose embedded connection is not ours or has no bucket owner
    fragment_unmatched,    // a later fragment whose first fragment was not seen (or expired)
    sched_ip_other,    // to the scheduler-port IP but not an ICMP echo request
    no_node,           // a bucket needed a node and none was eligible
    count_,
};
constexpr size_t kDropReasons = static_cast<size_t>(Drop::count_);
const char* drop_name(Drop reason);

// Identifies one fragmented datagram (RFC 791: source, destination, protocol, identification).
struct FragKey {
    uint32_t src = 0;
    uint32_t dst = 0;
    uint16_t id = 0;
    uint8_t proto = 0;
    friend bool operator==(const FragKey&, const FragKey&) = default;
};

struct Classified {
    Action action = Action::drop;
    Drop drop = Drop::none;
    uint16_t l3_offset = 0;  // 14, or 18 with an 802.1Q tag
    uint32_t key_ip = 0;     // client IP (host order) for bucket hashing
    uint16_t key_port = 0;   // client port
    FragKey frag;            // set for fragments
    uint8_t direct = 0;      // 0: to the VIP; i + 1: to ClassifierConfig::direct_ips[i] (a node's own address)
};

class PortSet {
public:
    void add(uint16_t port) { bits_.set(port); }
    bool contains(uint16_t port) const { return bits_.test(port); }

private:
    std::bitset<65536> bits_;
};

// nodes[].direct_ip: at most this many per array (the configuration refuses more).
constexpr size_t kMaxDirectIps = 32;

struct ClassifierConfig {
    MacAddr port_mac;     // the scheduler port's own MAC
    uint32_t vip = 0;
    uint32_t sched_ip = 0;
    PortSet tcp_ports;
    PortSet udp_ports;
    bool active = false;  // only an active scheduler answers ARP for, and forwards traffic to, the VIP
    // Nodes' direct IPs (nodes[].direct_ip), treated like the VIP here; which node gets their traffic is the
    // forwarder's choice (scheduler/dataplane/direct_ips.hpp). Written by the data-plane lcore only.
    std::array<uint32_t, kMaxDirectIps> direct_ips{};
    uint8_t direct_count = 0;

    // 0 when `ip` is no direct IP, else its index + 1. A handful of compares: only non-VIP traffic gets here.
    uint8_t direct_slot(uint32_t ip) const {
        for (uint8_t i = 0; i < direct_count; ++i) {
            if (direct_ips[i] == ip) return static_cast<uint8_t>(i + 1);
        }
        return 0;
    }
};

Classified classify(const uint8_t* frame, uint32_t len, const ClassifierConfig& cfg);

// The common frame, recognised with a few word compares so the data plane can hash it and prefetch its bucket
// before the lookup: untagged IPv4 without options or fragmentation, TCP/UDP to a scheduled VIP port, on an active
// scheduler. True exactly when classify() would say Action::forward with the same key (unit-tested); false means
// "ask classify()", not "drop".
inline bool fast_forward_key(const uint8_t* f, uint32_t len, const ClassifierConfig& cfg, uint32_t& ip, uint16_t& port) {
    if (len < 38 || !cfg.active) return false;
    if (std::memcmp(f, cfg.port_mac.bytes.data(), 6) != 0) return false;
    if (load16(f + 12) != kEtherIpv4 || f[14] != 0x45) return false;
    if ((load16(f + 20) & 0x3fff) != 0) return false;  // MF or an offset: fragments take the full path
    const uint8_t proto = f[23];
    if (proto != kProtoTcp && proto != kProtoUdp) return false;
    if (load32(f + 30) != cfg.vip) return false;
    const uint32_t total = load16(f + 16);
    if (total < 24 || len < 14 + total) return false;
    if (!(proto == kProtoTcp ? cfg.tcp_ports : cfg.udp_ports).contains(load16(f + 36))) return false;
    ip = load32(f + 26);
    port = load16(f + 34);
    return true;
}

// ---- in-place rewrites -----------------------------------------------------------------------------------------

// Forwarding changes exactly twelve bytes: destination and source MAC. TTL, checksums and payload are untouched.
inline void rewrite_macs(uint8_t* frame, const MacAddr& dst, const MacAddr& src) {
    std::memcpy(frame, dst.bytes.data(), 6);
    std::memcpy(frame + 6, src.bytes.data(), 6);
}

// Turns an ARP request (classified arp_reply) into the reply from `our_mac`.
void make_arp_reply(uint8_t* frame, uint16_t l3_offset, const MacAddr& our_mac);
// Turns an ICMP echo request (classified echo_reply) into the echo reply from `our_mac`.
void make_echo_reply(uint8_t* frame, uint16_t l3_offset, const MacAddr& our_mac);
// The ARP frames written here are padded to the Ethernet minimum, 60 bytes.
constexpr uint32_t kGarpLength = 60;
// A broadcast ARP request from `mac` (sender `sender_ip`) asking for `target_ip`, padded to kGarpLength bytes.
void build_arp_request(uint8_t* out, const MacAddr& mac, uint32_t sender_ip, uint32_t target_ip);
// RFC 5227 announcement: a request with sender = target = ip.
inline void build_gratuitous_arp(uint8_t* out, const MacAddr& mac, uint32_t ip) { build_arp_request(out, mac, ip, ip); }

// Internet checksum over a byte range, for building and checking headers in tests and the reply path.
uint16_t inet_checksum(const uint8_t* data, size_t len, uint32_t initial = 0);

}  // namespace dlba::pkt
