// The per-burst work on real mbufs from a real mempool: every mbuf is either handed to tx or returned to the pool,
// on every branch, and forwarded frames differ from the input only in their MAC addresses.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "frame_builder.hpp"
#include "test_addresses.hpp"
#include "bucket_hash.hpp"
#include "control/direct_ip_status.hpp"
#include "dataplane/forwarder.hpp"
#include "dataplane/port.hpp"

using namespace dlba;
using namespace dlba::sched;
using namespace dlba::testing;

namespace {


// EAL once per process, in memory only, no devices: enough for mempools and mbufs.
rte_mempool* pool() {
    static rte_mempool* mp = [] {
        const std::string prefix = "dlba-ut-" + std::to_string(getpid());
        std::vector<std::string> args = {"forwarder_test", "--no-huge", "--no-pci", "--no-shconf", "-m", "64",
                                         "--log-level=error", "-l", "0", "--file-prefix", prefix};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        REQUIRE(rte_eal_init(static_cast<int>(argv.size()), argv.data()) >= 0);
        std::string err;
        static MempoolPtr p = make_packet_pool("ut_pool", 1023, &err);
        REQUIRE(p);
        return p.get();
    }();
    return mp;
}

rte_mbuf* mbuf_of(const std::vector<uint8_t>& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool());
    REQUIRE(m);
    void* dst = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
    REQUIRE(dst);
    std::memcpy(dst, frame.data(), frame.size());
    return m;
}

std::vector<uint8_t> bytes_of(const rte_mbuf* m) {
    const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
    return std::vector<uint8_t>(p, p + rte_pktmbuf_data_len(m));
}

struct Rig {
    BucketTable table{1024, 60};
    FragmentTable fragments{64, 2000};
    pkt::ClassifierConfig cfg;
    LcoreCounters counters;
    Forwarder fwd{table, fragments, cfg, counters};
    MixHash hash{1024, 7};

    Rig() {
        cfg.port_mac = kPortMac;
        cfg.vip = kVip;
        cfg.sched_ip = kSchedIp;
        cfg.tcp_ports.add(80);
        cfg.active = true;
        for (uint16_t n = 1; n <= 3; ++n) table.set_node(n, node_mac(n), 1, NodeAdmin::enabled);
    }
    uint16_t run(std::vector<rte_mbuf*>& in, rte_mbuf** tx, Clock clock = {100, 100000}) {
        return fwd.process(hash, in.data(), static_cast<uint16_t>(in.size()), tx, clock);
    }
};

FrameBuilder to_vip(uint16_t sport = 40000) {
    return FrameBuilder().eth(kPortMac, kRouterMac).ip(kClient, kVip).ports(sport, 80).payload({'h', 'i'});
}

}  // namespace

TEST_CASE("every mbuf of a mixed burst is either transmitted or freed", "[forwarder]") {
    Rig rig;
    const unsigned avail_before = rte_mempool_avail_count(pool());
    const std::vector<std::vector<uint8_t>> frames = {
        to_vip(1).build(),                                                          // forward
        to_vip(2).truncate(20).build(),                                             // truncated
        FrameBuilder().eth(kBroadcast, kRouterMac).arp(1, kRouterMac, 1, kVip).build(),  // ARP reply
        to_vip(3).ports(3, 22).build(),                                             // unconfigured port
        FrameBuilder().eth(kPortMac, kRouterMac).ether_type(0x86dd).payload(std::vector<uint8_t>(40)).build(),
        FrameBuilder().eth(kPortMac, kRouterMac).ip(1, kSchedIp).icmp(8).build(),   // echo reply
        to_vip(4).fragment(false, 100).build(),                                     // unmatched later fragment
        to_vip(5).icmp(3, 4).payload(std::vector<uint8_t>(28)).build(),             // unmatched ICMP error
        to_vip(6).build(),                                                          // forward
    };
    std::vector<rte_mbuf*> in;
    for (const auto& f : frames) in.push_back(mbuf_of(f));
    rte_mbuf* tx[kMaxBurst];
    const uint16_t ntx = rig.run(in, tx);
    CHECK(ntx == 4);
    CHECK(rig.counters.rx.get() == frames.size());
    uint64_t drops = 0;
    for (const auto& d : rig.counters.drops) drops += d.get();
    CHECK(drops == frames.size() - 4);
    CHECK(rig.counters.forwarded.get() + rig.counters.arp_replies.get() + rig.counters.echo_replies.get() + drops ==
          rig.counters.rx.get());
    // The dropped ones are back in the pool already; freeing the tx ones returns every mbuf.
    CHECK(rte_mempool_avail_count(pool()) == avail_before - ntx);
    rte_pktmbuf_free_bulk(tx, ntx);
    CHECK(rte_mempool_avail_count(pool()) == avail_before);
}

TEST_CASE("a full burst with no eligible node frees every mbuf", "[forwarder]") {
    Rig rig;
    for (uint16_t n = 1; n <= 3; ++n) rig.table.set_failed(n, true);
    const unsigned avail_before = rte_mempool_avail_count(pool());
    std::vector<rte_mbuf*> in;
    for (uint16_t i = 0; i < kMaxBurst; ++i) in.push_back(mbuf_of(to_vip(static_cast<uint16_t>(1000 + i)).build()));
    rte_mbuf* tx[kMaxBurst];
    CHECK(rig.run(in, tx) == 0);
    CHECK(rig.counters.drops[static_cast<size_t>(pkt::Drop::no_node)].get() == kMaxBurst);
    CHECK(rte_mempool_avail_count(pool()) == avail_before);
}

TEST_CASE("forwarded frames go to the bucket's node with only the MACs changed", "[forwarder]") {
    Rig rig;
    const auto frame = to_vip(5555).vlan(12).build();
    std::vector<rte_mbuf*> in = {mbuf_of(frame)};
    rte_mbuf* tx[kMaxBurst];
    REQUIRE(rig.run(in, tx) == 1);
    const uint16_t node = rig.table.entry(rig.hash(kClient, 5555)).node;
    REQUIRE(node != kUnassigned);
    std::vector<uint8_t> want = frame;
    pkt::rewrite_macs(want.data(), node_mac(node), kPortMac);
    CHECK(bytes_of(tx[0]) == want);
    CHECK(rig.table.node(node).packets.get() == 1);
    rte_pktmbuf_free(tx[0]);
}

TEST_CASE("a connection's packets keep going to one node", "[forwarder]") {
    Rig rig;
    rte_mbuf* tx[kMaxBurst];
    std::vector<uint8_t> first_dst;
    for (uint32_t t = 0; t < 20; ++t) {
        std::vector<rte_mbuf*> in = {mbuf_of(to_vip(4242).build())};
        REQUIRE(rig.run(in, tx, {100 + t, 0}) == 1);
        const auto b = bytes_of(tx[0]);
        if (t == 0) first_dst.assign(b.begin(), b.begin() + 6);
        CHECK(std::vector<uint8_t>(b.begin(), b.begin() + 6) == first_dst);
        rte_pktmbuf_free(tx[0]);
    }
}

TEST_CASE("later fragments follow their first fragment's node", "[forwarder]") {
    Rig rig;
    rte_mbuf* tx[kMaxBurst];
    std::vector<rte_mbuf*> in = {mbuf_of(to_vip(999).ip_id(55).fragment(true, 0).build()),
                                 mbuf_of(to_vip(999).ip_id(55).fragment(false, 3).build())};
    REQUIRE(rig.run(in, tx) == 2);
    CHECK(std::memcmp(rte_pktmbuf_mtod(tx[0], uint8_t*), rte_pktmbuf_mtod(tx[1], uint8_t*), 6) == 0);
    CHECK(rig.counters.fragments_later.get() == 1);
    rte_pktmbuf_free_bulk(tx, 2);
}

TEST_CASE("an ICMP error reaches the node owning the quoted connection and assigns nothing", "[forwarder]") {
    Rig rig;
    rte_mbuf* tx[kMaxBurst];
    const auto quote = FrameBuilder().eth(kRouterMac, kPortMac).ip(kVip, kClient).ports(80, 31337).ip_quote();
    std::vector<rte_mbuf*> in = {mbuf_of(to_vip(1).icmp(3, 4).payload(quote).build())};
    CHECK(rig.run(in, tx) == 0);  // nobody owns 31337 yet: dropped, no bucket assigned
    CHECK(rig.table.stats().assigned.get() == 0);
    std::vector<rte_mbuf*> conn = {mbuf_of(to_vip(31337).build()), mbuf_of(to_vip(1).icmp(3, 4).payload(quote).build())};
    REQUIRE(rig.run(conn, tx) == 2);
    CHECK(std::memcmp(rte_pktmbuf_mtod(tx[0], uint8_t*), rte_pktmbuf_mtod(tx[1], uint8_t*), 6) == 0);
    CHECK(rig.counters.icmp_errors_steered.get() == 1);
    rte_pktmbuf_free_bulk(tx, 2);
}

// ---- nodes' direct IPs (issue 13: address takeover) --------------------------------------------------------------

namespace {

constexpr uint32_t kDirect2 = 0x0a4d002a;  // 10.77.0.42, node 2's direct IP (scripts/topo)

struct DirectRig : Rig {
    DirectIps direct;
    Forwarder dfwd{table, fragments, cfg, counters, &direct};

    DirectRig() {
        DirectIpList list;
        list.ip[0] = kDirect2;
        list.node[0] = 2;
        list.count = 1;
        REQUIRE(direct.set(list, cfg));
    }
    // One frame through the forwarder at second `now`: the node it was sent to (0: dropped or answered).
    uint16_t send(const std::vector<uint8_t>& frame, uint32_t now = 100) {
        direct.refresh(table, now);
        std::vector<rte_mbuf*> in = {mbuf_of(frame)};
        rte_mbuf* tx[kMaxBurst];
        const uint16_t n = dfwd.process(hash, in.data(), 1, tx, {now, uint64_t{now} * 1000});
        if (n == 0) return 0;
        uint16_t node = 0;
        for (uint16_t k = 1; k <= 3; ++k) {
            if (std::memcmp(rte_pktmbuf_mtod(tx[0], uint8_t*), node_mac(k).bytes.data(), 6) == 0) node = k;
        }
        rte_pktmbuf_free(tx[0]);
        return node;
    }
    DirectMode mode() const { return direct.slot(0).current(); }
};

FrameBuilder to_direct(uint16_t sport) {
    return FrameBuilder().eth(kPortMac, kRouterMac).ip(kClient, kDirect2).ports(sport, 80).payload({'h', 'i'});
}

}  // namespace

TEST_CASE("direct IP: a live owner gets its address's traffic straight, the bucket table untouched", "[forwarder]") {
    DirectRig rig;
    for (uint16_t sport = 1000; sport < 1040; ++sport) CHECK(rig.send(to_direct(sport).build()) == 2);
    CHECK(rig.table.stats().assigned.get() == 0);
    CHECK(rig.direct.slot(0).direct.get() == 40);
    CHECK(rig.counters.direct_taken_over.get() == 0);
    CHECK(rig.mode() == DirectMode::direct);
    // A standby forwards nothing to it.
    rig.cfg.active = false;
    CHECK(rig.send(to_direct(1).build()) == 0);
    CHECK(rig.counters.drops[static_cast<size_t>(pkt::Drop::standby)].get() == 1);
}

TEST_CASE("direct IP: the active scheduler answers ARP for it, a standby does not", "[forwarder]") {
    DirectRig rig;
    const auto request = FrameBuilder().eth(kBroadcast, kRouterMac).arp(1, kRouterMac, kRouter, kDirect2).build();
    std::vector<rte_mbuf*> in = {mbuf_of(request)};
    rte_mbuf* tx[kMaxBurst];
    REQUIRE(rig.dfwd.process(rig.hash, in.data(), 1, tx, {100, 100000}) == 1);
    const uint8_t* reply = rte_pktmbuf_mtod(tx[0], const uint8_t*);
    CHECK(pkt::load16(reply + 14 + 6) == 2);                                    // an ARP reply
    CHECK(std::memcmp(reply + 14 + 8, kPortMac.bytes.data(), 6) == 0);          // from our port
    CHECK(pkt::load32(reply + 14 + 14) == kDirect2);                            // for the direct IP
    rte_pktmbuf_free(tx[0]);
    rig.cfg.active = false;
    in = {mbuf_of(request)};
    CHECK(rig.dfwd.process(rig.hash, in.data(), 1, tx, {100, 100000}) == 0);
    CHECK(rig.counters.drops[static_cast<size_t>(pkt::Drop::arp_ignored)].get() == 1);
}

TEST_CASE("direct IP: a failed owner's address goes through the bucket table, never to the owner", "[forwarder]") {
    DirectRig rig;
    rig.table.set_failed(2, true);
    std::vector<uint16_t> seen;
    for (uint16_t sport = 2000; sport < 2060; ++sport) {
        const uint16_t node = rig.send(to_direct(sport).build());
        CHECK((node == 1 || node == 3));
        // The client's bucket decides, as for the VIP: the same flow stays on its node.
        CHECK(rig.send(to_direct(sport).build()) == node);
        seen.push_back(node);
    }
    CHECK(std::count(seen.begin(), seen.end(), 1) > 0);
    CHECK(std::count(seen.begin(), seen.end(), 3) > 0);
    CHECK(rig.mode() == DirectMode::taken_over);
    CHECK(rig.direct.slot(0).takeovers.get() == 1);
    CHECK(rig.counters.direct_taken_over.get() == 120);
    // Disabled counts the same.
    DirectRig off;
    off.table.set_admin(2, NodeAdmin::disabled);
    CHECK(off.send(to_direct(5).build()) != 2);
    CHECK(off.mode() == DirectMode::taken_over);
}

TEST_CASE("direct IP: on return, busy buckets keep their owner, idle ones go to the node; then direct again",
          "[forwarder]") {
    DirectRig rig;  // idle timeout 60 s
    rig.table.set_failed(2, true);
    const uint16_t busy_port = 3000;
    const uint16_t elsewhere = rig.send(to_direct(busy_port).build(), 100);  // a download while taken over
    REQUIRE((elsewhere == 1 || elsewhere == 3));
    rig.table.set_failed(2, false);
    CHECK(rig.send(to_direct(busy_port).build(), 110) == elsewhere);  // established: stays
    CHECK(rig.mode() == DirectMode::returning);
    // A new client in an idle (here: never used) bucket gets node 2, and its bucket is claimed for node 2.
    uint16_t fresh = 3100;
    while (rig.table.entry(rig.hash(kClient, fresh)).node != kUnassigned ||
           rig.hash(kClient, fresh) == rig.hash(kClient, busy_port)) {
        ++fresh;
    }
    CHECK(rig.send(to_direct(fresh).build(), 111) == 2);
    CHECK(rig.table.entry(rig.hash(kClient, fresh)).node == 2);
    CHECK(rig.send(to_direct(fresh).build(), 112) == 2);
    // The download keeps its node as long as it is busy...
    for (uint32_t t = 120; t <= 200; t += 20) CHECK(rig.send(to_direct(busy_port).build(), t) == elsewhere);
    CHECK(rig.mode() == DirectMode::returning);
    // ...and once nothing has needed another node for the idle timeout, the address is direct again.
    rig.direct.refresh(rig.table, 200 + 61);
    CHECK(rig.mode() == DirectMode::direct);
    CHECK(rig.send(to_direct(busy_port).build(), 262) == 2);
}

TEST_CASE("direct IP: a new list keeps the mode of unchanged addresses; an unknown address is not ours",
          "[forwarder]") {
    DirectRig rig;
    rig.table.set_failed(2, true);
    rig.direct.refresh(rig.table, 100);
    DirectIpList list;
    list.ip = {kDirect2, 0x0a4d002b};
    list.node = {2, 3};
    list.count = 2;
    REQUIRE(rig.direct.set(list, rig.cfg));
    CHECK(rig.mode() == DirectMode::taken_over);
    CHECK(rig.direct.slot(1).current() == DirectMode::direct);
    CHECK(rig.send(to_direct(7).ip(kClient, 0x0a4d002b).build()) == 3);
    CHECK(rig.send(to_direct(7).ip(kClient, 0x0a4d0029).build()) == 0);
    CHECK(rig.counters.drops[static_cast<size_t>(pkt::Drop::not_our_ip)].get() == 1);
    list.count = pkt::kMaxDirectIps + 1;
    CHECK_FALSE(rig.direct.set(list, rig.cfg));
}

TEST_CASE("direct IP: the status cells say who serves each address", "[forwarder]") {
    DirectRig rig;
    NodeConfig two;
    two.number = 2;
    two.direct_ip = kDirect2;
    NodeConfig one;
    one.number = 1;
    std::vector<io::Column> columns;
    direct_ip_columns(columns);
    const auto cells = [&](const NodeConfig& n) {
        std::vector<nlohmann::json> row;
        direct_ip_cells(&rig.direct, n, row);
        REQUIRE(row.size() == columns.size());
        return row;
    };
    CHECK(cells(two)[0] == "10.77.0.42");
    CHECK(cells(two)[1] == "self");
    CHECK(cells(one)[0].is_null());
    CHECK(cells(one)[1].is_null());
    rig.table.set_failed(2, true);
    CHECK(rig.send(to_direct(9).build()) != 2);
    CHECK(cells(two)[1] == "buckets");
    CHECK(cells(two)[3] == 1);  // direct_taken_over
    CHECK(cells(two)[4] == 1);  // direct_takeovers
    rig.table.set_failed(2, false);
    rig.direct.refresh(rig.table, 101);
    CHECK(cells(two)[1] == "returning");
    // The list the control plane builds from the configuration: only nodes with a direct IP, in node order.
    const DirectIpList list = direct_ip_list({one, two});
    CHECK(list.count == 1);
    CHECK(list.ip[0] == kDirect2);
    CHECK(list.node[0] == 2);
}
