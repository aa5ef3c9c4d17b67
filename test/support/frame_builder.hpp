// Builds Ethernet frames byte by byte for tests and benchmarks: valid by default, with a setter for every field a
// test wants to get wrong. Header-only and DPDK-free.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "net_types.hpp"
#include "packet.hpp"

namespace dlba::testing {

class FrameBuilder {
public:
    // ---- Ethernet
    FrameBuilder& eth(const MacAddr& dst, const MacAddr& src) { dst_ = dst, src_ = src; return *this; }
    FrameBuilder& vlan(uint16_t tci, uint16_t tpid = pkt::kEtherVlan) { vlans_.push_back({tpid, tci}); return *this; }
    FrameBuilder& ether_type(uint16_t t) { ether_type_ = t; return *this; }
    // ---- IPv4
    FrameBuilder& ip(uint32_t src, uint32_t dst) { src_ip_ = src, dst_ip_ = dst; return *this; }
    FrameBuilder& proto(uint8_t p) { proto_ = p; return *this; }
    FrameBuilder& ip_version(uint8_t v) { version_ = v; return *this; }
    FrameBuilder& ihl_words(uint8_t w) { ihl_override_ = w; return *this; }
    FrameBuilder& ip_options(std::vector<uint8_t> o) { options_ = std::move(o); return *this; }
    FrameBuilder& ip_id(uint16_t id) { ip_id_ = id; return *this; }
    FrameBuilder& fragment(bool more, uint16_t offset_units) { frag_ = static_cast<uint16_t>((more ? 0x2000 : 0) | offset_units); return *this; }
    FrameBuilder& total_length(uint16_t n) { total_override_ = n; return *this; }
    // ---- L4: TCP/UDP get ports and payload; ICMP gets type/code and the payload after the 8-byte header
    FrameBuilder& ports(uint16_t sport, uint16_t dport) { sport_ = sport, dport_ = dport; return *this; }
    FrameBuilder& icmp(uint8_t type, uint8_t code = 0) { proto_ = pkt::kProtoIcmp, icmp_type_ = type, icmp_code_ = code; return *this; }
    FrameBuilder& payload(std::vector<uint8_t> p) { payload_ = std::move(p); return *this; }
    // Cut the finished frame to n bytes (truncation cases) or pad it to n bytes (Ethernet minimum, trailers).
    FrameBuilder& truncate(size_t n) { truncate_ = n; return *this; }
    FrameBuilder& pad_to(size_t n) { pad_to_ = n; return *this; }

    // ---- ARP
    FrameBuilder& arp(uint16_t op, const MacAddr& sha, uint32_t spa, uint32_t tpa) {
        ether_type_ = pkt::kEtherArp, arp_op_ = op, arp_sha_ = sha, arp_spa_ = spa, arp_tpa_ = tpa;
        return *this;
    }

    // The IPv4 header + first 8 bytes of L4 of this frame, as an ICMP error would quote it.
    std::vector<uint8_t> ip_quote() const {
        std::vector<uint8_t> f = build();
        const size_t l3 = 14 + 4 * vlans_.size();
        const size_t ihl = 20 + options_.size();
        return std::vector<uint8_t>(f.begin() + static_cast<long>(l3), f.begin() + static_cast<long>(l3 + ihl + 8));
    }

    std::vector<uint8_t> build() const {
        std::vector<uint8_t> f;
        const auto put8 = [&](uint8_t v) { f.push_back(v); };
        const auto put16 = [&](uint16_t v) { f.push_back(static_cast<uint8_t>(v >> 8)); f.push_back(static_cast<uint8_t>(v)); };
        const auto put32 = [&](uint32_t v) { put16(static_cast<uint16_t>(v >> 16)); put16(static_cast<uint16_t>(v)); };
        const auto putmac = [&](const MacAddr& m) { f.insert(f.end(), m.bytes.begin(), m.bytes.end()); };
        putmac(dst_);
        putmac(src_);
        for (const auto& [tpid, tci] : vlans_) put16(tpid), put16(tci);
        put16(ether_type_);
        if (ether_type_ == pkt::kEtherArp) {
            put16(1), put16(pkt::kEtherIpv4), put8(6), put8(4), put16(arp_op_);
            putmac(arp_sha_), put32(arp_spa_), putmac(MacAddr{}), put32(arp_tpa_);
        } else if (ether_type_ == pkt::kEtherIpv4 || ether_type_ == 0x86dd) {
            const size_t l3 = f.size();
            const size_t ihl = 20 + options_.size();
            std::vector<uint8_t> l4;
            if (proto_ == pkt::kProtoIcmp) {
                l4 = {icmp_type_, icmp_code_, 0, 0, 0, 0, 0, 0};
                l4.insert(l4.end(), payload_.begin(), payload_.end());
                const uint16_t sum = pkt::inet_checksum(l4.data(), l4.size());
                l4[2] = static_cast<uint8_t>(sum >> 8), l4[3] = static_cast<uint8_t>(sum);
            } else if (proto_ == pkt::kProtoTcp) {
                l4 = {static_cast<uint8_t>(sport_ >> 8), static_cast<uint8_t>(sport_), static_cast<uint8_t>(dport_ >> 8),
                      static_cast<uint8_t>(dport_), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0};
                l4.insert(l4.end(), payload_.begin(), payload_.end());
            } else if (proto_ == pkt::kProtoUdp) {
                const uint16_t ulen = static_cast<uint16_t>(8 + payload_.size());
                l4 = {static_cast<uint8_t>(sport_ >> 8), static_cast<uint8_t>(sport_), static_cast<uint8_t>(dport_ >> 8),
                      static_cast<uint8_t>(dport_), static_cast<uint8_t>(ulen >> 8), static_cast<uint8_t>(ulen), 0, 0};
                l4.insert(l4.end(), payload_.begin(), payload_.end());
            } else {
                l4 = payload_;
            }
            const uint8_t words = ihl_override_ ? *ihl_override_ : static_cast<uint8_t>(ihl / 4);
            put8(static_cast<uint8_t>(version_ << 4 | (words & 0x0f)));
            put8(0);
            put16(total_override_ ? *total_override_ : static_cast<uint16_t>(ihl + l4.size()));
            put16(ip_id_), put16(frag_), put8(64), put8(proto_), put16(0), put32(src_ip_), put32(dst_ip_);
            f.insert(f.end(), options_.begin(), options_.end());
            const uint16_t sum = pkt::inet_checksum(f.data() + l3, ihl);
            f[l3 + 10] = static_cast<uint8_t>(sum >> 8), f[l3 + 11] = static_cast<uint8_t>(sum);
            f.insert(f.end(), l4.begin(), l4.end());
        } else {
            f.insert(f.end(), payload_.begin(), payload_.end());
        }
        if (f.size() < pad_to_) f.resize(pad_to_, 0);
        if (truncate_ && f.size() > *truncate_) f.resize(*truncate_);
        return f;
    }

private:
    MacAddr dst_, src_;
    std::vector<std::pair<uint16_t, uint16_t>> vlans_;
    uint16_t ether_type_ = pkt::kEtherIpv4;
    uint32_t src_ip_ = 0, dst_ip_ = 0;
    uint8_t proto_ = pkt::kProtoTcp;
    uint8_t version_ = 4;
    std::optional<uint8_t> ihl_override_;
    std::vector<uint8_t> options_;
    uint16_t ip_id_ = 1;
    uint16_t frag_ = 0;
    std::optional<uint16_t> total_override_;
    uint16_t sport_ = 0, dport_ = 0;
    uint8_t icmp_type_ = 8, icmp_code_ = 0;
    std::vector<uint8_t> payload_;
    std::optional<size_t> truncate_;
    size_t pad_to_ = 0;
    uint16_t arp_op_ = 1;
    MacAddr arp_sha_;
    uint32_t arp_spa_ = 0, arp_tpa_ = 0;
};

}  // namespace dlba::testing
