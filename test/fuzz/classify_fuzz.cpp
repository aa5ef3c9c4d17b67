// Fuzzes the frame classifier (common/packet.* pkt::classify, fast_forward_key and the in-place answers), which
// reads every frame the scheduler port receives. Input: one flag byte (bit 0: the scheduler is active), then the
// frame, given to the classifier in a buffer of exactly its size (ASan catches any read past the end).
// Invariants: a drop has a reason and only a drop has one; headers are at 14 or 18; only an active scheduler
// forwards; the fast path agrees with classify() whenever it claims a frame, with the same key; forwarding
// rewrites exactly the twelve MAC bytes; an ARP answer is a reply to the asker that is not itself answered; an
// echo answer swaps the addresses and carries valid IP and ICMP checksums.
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_check.hpp"
#include "packet.hpp"

using namespace dlba;
using namespace dlba::pkt;

namespace {

const MacAddr kPortMac{{0x02, 0x77, 0, 0, 2, 1}};
const MacAddr kNodeMac{{0x02, 0x77, 0, 0, 1, 2}};
constexpr uint32_t kVip = 0x0a4d0064;      // 10.77.0.100
constexpr uint32_t kSchedIp = 0x0a4d0015;  // 10.77.0.21

ClassifierConfig make_config(bool active) {
    ClassifierConfig cfg;
    cfg.port_mac = kPortMac;
    cfg.vip = kVip;
    cfg.sched_ip = kSchedIp;
    for (uint16_t p : {80, 443, 8080}) cfg.tcp_ports.add(p);
    cfg.udp_ports.add(53);
    cfg.active = active;
    cfg.direct_ips[0] = 0x0a4d002a;  // a node's direct IP (10.77.0.42): handled like the VIP
    cfg.direct_count = 1;
    return cfg;
}

bool forwards(Action a) {
    return a == Action::forward || a == Action::forward_first_fragment || a == Action::forward_later_fragment ||
           a == Action::forward_icmp_error;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    static const ClassifierConfig kActive = make_config(true), kStandby = make_config(false);
    const ClassifierConfig& cfg = data[0] & 1 ? kActive : kStandby;
    const std::vector<uint8_t> frame(data + 1, data + size);
    const uint32_t len = static_cast<uint32_t>(frame.size());

    const Classified c = classify(frame.data(), len, cfg);
    FUZZ_CHECK((c.action == Action::drop) == (c.drop != Drop::none));
    FUZZ_CHECK(c.drop < Drop::count_ && c.drop != Drop::no_node);  // no_node is the data plane's, not classify's
    if (c.action != Action::drop) {
        FUZZ_CHECK(c.l3_offset == 14 || c.l3_offset == 18);
        FUZZ_CHECK(len >= c.l3_offset);
    }
    if (forwards(c.action)) FUZZ_CHECK(cfg.active);

    uint32_t ip = 0;
    uint16_t port = 0;
    if (fast_forward_key(frame.data(), len, cfg, ip, port)) {
        FUZZ_CHECK(c.action == Action::forward);
        FUZZ_CHECK(c.key_ip == ip && c.key_port == port && c.direct == 0);  // the fast path is the VIP's only
    }

    std::vector<uint8_t> out(frame);
    switch (c.action) {
        case Action::forward:
        case Action::forward_first_fragment:
        case Action::forward_later_fragment:
        case Action::forward_icmp_error:
            rewrite_macs(out.data(), kNodeMac, cfg.port_mac);
            FUZZ_CHECK(std::memcmp(out.data(), kNodeMac.bytes.data(), 6) == 0);
            FUZZ_CHECK(std::memcmp(out.data() + 6, kPortMac.bytes.data(), 6) == 0);
            FUZZ_CHECK(std::memcmp(out.data() + 12, frame.data() + 12, len - 12) == 0);
            break;
        case Action::arp_reply: {
            const uint8_t* asked = frame.data() + c.l3_offset;
            make_arp_reply(out.data(), c.l3_offset, cfg.port_mac);
            const uint8_t* arp = out.data() + c.l3_offset;
            FUZZ_CHECK(std::memcmp(out.data(), asked + 8, 6) == 0);  // to the asker's hardware address
            FUZZ_CHECK(std::memcmp(out.data() + 6, kPortMac.bytes.data(), 6) == 0);
            FUZZ_CHECK(load16(arp + 6) == 2);
            FUZZ_CHECK(load32(arp + 14) == load32(asked + 24) && load32(arp + 24) == load32(asked + 14));
            FUZZ_CHECK(load32(arp + 14) == cfg.sched_ip ||
                       (cfg.active && (load32(arp + 14) == cfg.vip || cfg.direct_slot(load32(arp + 14)) != 0)));
            FUZZ_CHECK(classify(out.data(), len, cfg).action != Action::arp_reply);
            break;
        }
        case Action::echo_reply: {
            make_echo_reply(out.data(), c.l3_offset, cfg.port_mac);
            const uint8_t* in_ip = frame.data() + c.l3_offset;
            const uint8_t* o = out.data() + c.l3_offset;
            const uint32_t ihl = (o[0] & 0x0f) * 4u;
            const uint32_t total = load16(o + 2);
            FUZZ_CHECK(c.l3_offset + total <= len && total >= ihl + 8);
            FUZZ_CHECK(load32(o + 12) == load32(in_ip + 16) && load32(o + 16) == load32(in_ip + 12));
            FUZZ_CHECK(load32(o + 12) == cfg.sched_ip ||
                       (cfg.active && (load32(o + 12) == cfg.vip || cfg.direct_slot(load32(o + 12)) != 0)));
            FUZZ_CHECK(inet_checksum(o, ihl) == 0);
            FUZZ_CHECK(o[ihl] == 0);  // echo reply
            FUZZ_CHECK(inet_checksum(o + ihl, total - ihl) == 0);
            FUZZ_CHECK(std::memcmp(out.data(), frame.data() + 6, 6) == 0);
            FUZZ_CHECK(classify(out.data(), len, cfg).action != Action::echo_reply);
            break;
        }
        case Action::drop:
            break;
    }
    return 0;
}
