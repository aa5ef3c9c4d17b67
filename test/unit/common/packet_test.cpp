#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "frame_builder.hpp"
#include "test_addresses.hpp"
#include "fragment_table.hpp"
#include "packet.hpp"

using namespace dlba;
using namespace dlba::pkt;
using namespace dlba::testing;

namespace {

const MacAddr kOther{{0x02, 0x99, 0, 0, 0, 9}};

ClassifierConfig config(bool active = true) {
    ClassifierConfig c;
    c.port_mac = kPortMac;
    c.vip = kVip;
    c.sched_ip = kSchedIp;
    c.tcp_ports.add(80);
    c.tcp_ports.add(443);
    c.udp_ports.add(443);
    c.active = active;
    return c;
}

FrameBuilder to_vip() { return FrameBuilder().eth(kPortMac, kRouterMac).ip(kClient, kVip).ports(40000, 80); }

// What the array sent to the client, as an ICMP error from a router on the way would quote it.
std::vector<uint8_t> quote_of_reply(uint16_t service_port, uint16_t client_port, uint8_t proto = kProtoTcp) {
    return FrameBuilder().eth(kRouterMac, kPortMac).ip(kVip, kClient).proto(proto).ports(service_port, client_port).ip_quote();
}

struct Case {
    std::string what;
    std::vector<uint8_t> frame;
    bool active;
    Action action;
    Drop drop;
};

}  // namespace

TEST_CASE("frames are classified into exactly one defined action or counted drop", "[packet]") {
    const std::vector<Case> cases = {
        {"TCP SYN to VIP:80 is forwarded", to_vip().build(), true, Action::forward, Drop::none},
        {"TCP to VIP:443 is forwarded", to_vip().ports(40000, 443).build(), true, Action::forward, Drop::none},
        {"UDP to VIP:443 (configured) is forwarded", to_vip().proto(kProtoUdp).ports(5000, 443).build(), true, Action::forward, Drop::none},
        {"padded minimum-size frame is forwarded", to_vip().pad_to(64).build(), true, Action::forward, Drop::none},
        {"IP options are skipped to find the ports", to_vip().ip_options({1, 1, 1, 0}).build(), true, Action::forward, Drop::none},
        {"one 802.1Q tag is carried through", to_vip().vlan(100).build(), true, Action::forward, Drop::none},
        {"VIP traffic to a standby is dropped", to_vip().build(), false, Action::drop, Drop::standby},
        {"TCP to VIP on an unconfigured port", to_vip().ports(40000, 22).build(), true, Action::drop, Drop::vip_port},
        {"UDP to VIP on a TCP-only port", to_vip().proto(kProtoUdp).ports(5000, 80).build(), true, Action::drop, Drop::vip_port},
        {"GRE to VIP", to_vip().proto(47).payload({0, 0, 8, 0}).build(), true, Action::drop, Drop::vip_protocol},
        {"another host's unicast MAC", FrameBuilder(to_vip()).eth(kOther, kRouterMac).build(), true, Action::drop, Drop::not_for_us},
        {"broadcast IPv4", FrameBuilder(to_vip()).eth(kBroadcast, kRouterMac).build(), true, Action::drop, Drop::not_for_us},
        {"IPv6", FrameBuilder().eth(kPortMac, kRouterMac).ether_type(0x86dd).payload(std::vector<uint8_t>(40)).build(), true, Action::drop, Drop::non_ip},
        {"LLDP", FrameBuilder().eth(kPortMac, kRouterMac).ether_type(0x88cc).payload(std::vector<uint8_t>(40)).build(), true, Action::drop, Drop::non_ip},
        {"QinQ outer tag", to_vip().vlan(10, kEtherQinQ).vlan(100).build(), true, Action::drop, Drop::vlan_stacked},
        {"two 802.1Q tags", to_vip().vlan(10).vlan(100).build(), true, Action::drop, Drop::vlan_stacked},
        {"shorter than an Ethernet header", to_vip().truncate(13).build(), true, Action::drop, Drop::truncated},
        {"tag but no inner type", to_vip().vlan(5).truncate(16).build(), true, Action::drop, Drop::truncated},
        {"IPv4 header cut short", to_vip().truncate(14 + 19).build(), true, Action::drop, Drop::truncated},
        {"frame shorter than IP total length", to_vip().truncate(14 + 30).build(), true, Action::drop, Drop::truncated},
        {"ports cut off by total length", to_vip().total_length(22).build(), true, Action::drop, Drop::truncated},
        {"IHL below 5", to_vip().ihl_words(4).build(), true, Action::drop, Drop::bad_ip_header},
        {"IP version 6 in an IPv4 ethertype", to_vip().ip_version(6).build(), true, Action::drop, Drop::bad_ip_header},
        {"total length below IHL", to_vip().total_length(12).build(), true, Action::drop, Drop::bad_ip_header},
        {"IHL larger than total length", to_vip().ihl_words(15).total_length(40).build(), true, Action::drop, Drop::bad_ip_header},
        {"to an IP that is not ours", FrameBuilder(to_vip()).ip(kClient, 0x0a4d0063).build(), true, Action::drop, Drop::not_our_ip},
        {"first fragment forwarded by its ports", to_vip().fragment(true, 0).build(), true, Action::forward_first_fragment, Drop::none},
        {"later fragment follows the first", to_vip().fragment(false, 185).payload({1, 2, 3}).build(), true, Action::forward_later_fragment, Drop::none},
        {"middle fragment follows the first", to_vip().fragment(true, 100).build(), true, Action::forward_later_fragment, Drop::none},
        {"fragmented ICMP to VIP", to_vip().icmp(8).fragment(true, 0).build(), true, Action::drop, Drop::vip_icmp},
        {"ICMP echo to the scheduler-port IP", FrameBuilder().eth(kPortMac, kRouterMac).ip(kRouter, kSchedIp).icmp(8).build(), false, Action::echo_reply, Drop::none},
        {"ICMP echo to the VIP when active", to_vip().icmp(8).build(), true, Action::echo_reply, Drop::none},
        {"ICMP echo to the VIP when standby", to_vip().icmp(8).build(), false, Action::drop, Drop::standby},
        {"TCP to the scheduler-port IP", FrameBuilder(to_vip()).ip(kRouter, kSchedIp).build(), true, Action::drop, Drop::sched_ip_other},
        {"ICMP timestamp to VIP", to_vip().icmp(13).build(), true, Action::drop, Drop::vip_icmp},
        {"ICMP frag-needed about a client connection", to_vip().icmp(3, 4).payload(quote_of_reply(80, 40000)).build(), true, Action::forward_icmp_error, Drop::none},
        {"ICMP time-exceeded about a client connection", to_vip().icmp(11).payload(quote_of_reply(443, 5000)).build(), true, Action::forward_icmp_error, Drop::none},
        {"ICMP error quoting another service port", to_vip().icmp(3, 4).payload(quote_of_reply(22, 40000)).build(), true, Action::drop, Drop::icmp_error_unmatched},
        {"ICMP error quoting a non-TCP/UDP packet", to_vip().icmp(3, 4).payload(quote_of_reply(80, 4000, 47)).build(), true, Action::drop, Drop::icmp_error_unmatched},
        {"ICMP error with a short quote", to_vip().icmp(3, 4).payload(std::vector<uint8_t>(12)).build(), true, Action::drop, Drop::truncated},
        {"ARP request for the VIP when active", FrameBuilder().eth(kBroadcast, kRouterMac).arp(1, kRouterMac, kRouter, kVip).build(), true, Action::arp_reply, Drop::none},
        {"ARP request for the VIP when standby", FrameBuilder().eth(kBroadcast, kRouterMac).arp(1, kRouterMac, kRouter, kVip).build(), false, Action::drop, Drop::arp_ignored},
        {"ARP request for the scheduler-port IP when standby", FrameBuilder().eth(kBroadcast, kRouterMac).arp(1, kRouterMac, kRouter, kSchedIp).build(), false, Action::arp_reply, Drop::none},
        {"ARP request for someone else", FrameBuilder().eth(kBroadcast, kRouterMac).arp(1, kRouterMac, kRouter, 0x0a4d000b).build(), true, Action::drop, Drop::arp_ignored},
        {"ARP reply", FrameBuilder().eth(kPortMac, kRouterMac).arp(2, kRouterMac, kRouter, kVip).build(), true, Action::drop, Drop::arp_ignored},
        {"another node's gratuitous ARP for the VIP", FrameBuilder().eth(kBroadcast, kOther).arp(1, kOther, kVip, kVip).build(), true, Action::drop, Drop::arp_ignored},
        {"truncated ARP", FrameBuilder().eth(kBroadcast, kRouterMac).arp(1, kRouterMac, kRouter, kVip).truncate(14 + 20).build(), true, Action::drop, Drop::truncated},
    };
    for (const Case& c : cases) {
        INFO(c.what);
        const Classified got = classify(c.frame.data(), static_cast<uint32_t>(c.frame.size()), config(c.active));
        CHECK(got.action == c.action);
        CHECK(drop_name(got.drop) == std::string(drop_name(c.drop)));
    }
}

TEST_CASE("the bucket key is the client address and port, also behind a tag and IP options", "[packet]") {
    for (const auto& frame : {to_vip().build(), to_vip().vlan(7).build(), to_vip().ip_options({1, 1, 1, 1, 1, 1, 1, 0}).build()}) {
        const Classified c = classify(frame.data(), static_cast<uint32_t>(frame.size()), config());
        CHECK(c.key_ip == kClient);
        CHECK(c.key_port == 40000);
    }
}

TEST_CASE("ICMP errors are keyed by the client side of the quoted connection", "[packet]") {
    const auto frame = to_vip().icmp(3, 4).payload(quote_of_reply(443, 51234)).build();
    const Classified c = classify(frame.data(), static_cast<uint32_t>(frame.size()), config());
    REQUIRE(c.action == Action::forward_icmp_error);
    CHECK(c.key_ip == kClient);
    CHECK(c.key_port == 51234);
}

TEST_CASE("all fragments of one datagram carry the same fragment key", "[packet]") {
    const auto first = to_vip().ip_id(777).fragment(true, 0).build();
    const auto later = to_vip().ip_id(777).fragment(false, 10).build();
    const Classified a = classify(first.data(), static_cast<uint32_t>(first.size()), config());
    const Classified b = classify(later.data(), static_cast<uint32_t>(later.size()), config());
    CHECK(a.frag == b.frag);
    CHECK(a.frag.id == 777);
}

TEST_CASE("forwarding rewrites only the two MAC addresses", "[packet]") {
    auto frame = to_vip().vlan(42).payload({'G', 'E', 'T', ' ', '/'}).build();
    const auto before = frame;
    const MacAddr node{{0x02, 0x77, 0, 0, 1, 3}};
    rewrite_macs(frame.data(), node, kPortMac);
    CHECK(std::memcmp(frame.data(), node.bytes.data(), 6) == 0);
    CHECK(std::memcmp(frame.data() + 6, kPortMac.bytes.data(), 6) == 0);
    CHECK(std::vector<uint8_t>(frame.begin() + 12, frame.end()) == std::vector<uint8_t>(before.begin() + 12, before.end()));
}

TEST_CASE("ARP reply answers the requester with our MAC for the asked address", "[packet]") {
    auto frame = FrameBuilder().eth(kBroadcast, kRouterMac).arp(1, kRouterMac, kRouter, kVip).build();
    const Classified c = classify(frame.data(), static_cast<uint32_t>(frame.size()), config());
    REQUIRE(c.action == Action::arp_reply);
    make_arp_reply(frame.data(), c.l3_offset, kPortMac);
    const auto expected = FrameBuilder().eth(kRouterMac, kPortMac).arp(2, kPortMac, kVip, kRouter).build();
    // The builder leaves the target MAC zero; the reply fills it with the requester's.
    auto want = expected;
    std::memcpy(want.data() + 14 + 18, kRouterMac.bytes.data(), 6);
    CHECK(frame == want);
}

TEST_CASE("echo reply swaps addresses and has valid checksums", "[packet]") {
    auto frame = FrameBuilder().eth(kPortMac, kRouterMac).ip(kRouter, kSchedIp).icmp(8).payload({1, 2, 3, 4, 5}).build();
    const Classified c = classify(frame.data(), static_cast<uint32_t>(frame.size()), config());
    REQUIRE(c.action == Action::echo_reply);
    make_echo_reply(frame.data(), c.l3_offset, kPortMac);
    CHECK(std::memcmp(frame.data(), kRouterMac.bytes.data(), 6) == 0);
    CHECK(load32(frame.data() + 14 + 12) == kSchedIp);
    CHECK(load32(frame.data() + 14 + 16) == kRouter);
    CHECK(frame[14 + 20] == 0);                                          // echo reply
    CHECK(inet_checksum(frame.data() + 14, 20) == 0);                    // IP header sums to zero
    CHECK(inet_checksum(frame.data() + 34, frame.size() - 34) == 0);     // so does ICMP
}

TEST_CASE("gratuitous ARP announces the address as a request from and for itself", "[packet]") {
    uint8_t buf[kGarpLength];
    build_gratuitous_arp(buf, kPortMac, kVip);
    CHECK(std::memcmp(buf, kBroadcast.bytes.data(), 6) == 0);
    CHECK(load16(buf + 12) == kEtherArp);
    CHECK(load16(buf + 14 + 6) == 1);
    CHECK(load32(buf + 14 + 14) == kVip);
    CHECK(load32(buf + 14 + 24) == kVip);
    // Another scheduler receiving it ignores it rather than answering.
    ClassifierConfig other = config();
    other.port_mac = kOther;
    CHECK(classify(buf, kGarpLength, other).drop == Drop::arp_ignored);
}

TEST_CASE("fragment table remembers a datagram's node until it expires", "[packet]") {
    FragmentTable t(100, 2000);
    CHECK(t.size() == 128);
    const FragKey k{kClient, kVip, 42, kProtoTcp};
    CHECK(t.find(k, 0) == kUnassigned);
    t.remember(k, 3, 1000);
    CHECK(t.find(k, 2999) == 3);
    CHECK(t.find(k, 3001) == kUnassigned);
    FragKey other = k;
    other.id = 43;
    CHECK(t.find(other, 1500) == kUnassigned);
}

TEST_CASE("the fast path recognises a frame only when the classifier would forward it with the same key", "[packet]") {
    // Property over every single-byte change of the first 40 bytes of several frames, each byte set to a few
    // telling values: fast_forward_key() true implies classify() says forward with the same client key.
    const std::vector<std::vector<uint8_t>> bases = {
        to_vip().build(), to_vip().proto(kProtoUdp).ports(5000, 443).build(), to_vip().ports(1, 443).pad_to(64).build(),
        to_vip().fragment(true, 0).build(), to_vip().icmp(8).build()};
    const uint8_t values[] = {0x00, 0x01, 0x06, 0x11, 0x20, 0x45, 0x46, 0x50, 0x64, 0x80, 0xbb, 0xff};
    size_t fast_count = 0, checked = 0;
    for (const auto& base : bases) {
        for (size_t at = 0; at < 40 && at < base.size(); ++at) {
            for (uint8_t v : values) {
                auto f = base;
                f[at] = v;
                for (bool active : {true, false}) {
                    uint32_t ip = 0;
                    uint16_t port = 0;
                    const ClassifierConfig cfg = config(active);
                    const bool fast = fast_forward_key(f.data(), static_cast<uint32_t>(f.size()), cfg, ip, port);
                    const Classified c = classify(f.data(), static_cast<uint32_t>(f.size()), cfg);
                    ++checked;
                    if (!fast) continue;
                    ++fast_count;
                    INFO("byte " << at << " = " << int(v) << (active ? " active" : " standby"));
                    REQUIRE(c.action == Action::forward);
                    REQUIRE(c.key_ip == ip);
                    REQUIRE(c.key_port == port);
                }
            }
        }
    }
    CHECK(checked > 2000);
    CHECK(fast_count > 100);  // the property is not vacuous
    uint32_t ip = 0;
    uint16_t port = 0;
    const auto plain = to_vip().build();
    CHECK(fast_forward_key(plain.data(), static_cast<uint32_t>(plain.size()), config(), ip, port));
    const auto tagged = to_vip().vlan(3).build();
    CHECK_FALSE(fast_forward_key(tagged.data(), static_cast<uint32_t>(tagged.size()), config(), ip, port));
}
