// Fuzzes the data plane's per-burst work (scheduler/dataplane/forwarder.hpp Forwarder::process) over real mbufs
// from a real mempool (DPDK EAL in memory only: --no-huge --no-pci, no devices).
//
// Input: one flag byte, then up to kMaxBurst frames, each a big-endian u16 length and that many bytes.
//   flags bit 0: the scheduler is active; bit 1: seed_sum hash instead of mix; bit 2: no node is eligible
// Invariants:
//   - every mbuf is either handed to tx (in input order) or back in the pool: none lost, none freed twice;
//   - rx == forwarded + arp_replies + echo_replies + sum(drops), and rx counts every frame;
//   - a frame classify() drops is never sent; an ARP or echo request for us is always answered, with exactly the
//     bytes make_arp_reply/make_echo_reply produce; a forwarded frame differs from its input only in its MACs:
//     to a configured node's eth0 MAC, from the port's MAC.
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "bucket_hash.hpp"
#include "dataplane/forwarder.hpp"
#include "dataplane/port.hpp"
#include "fuzz_check.hpp"

using namespace dlba;
using namespace dlba::sched;

namespace {

const MacAddr kPortMac{{0x02, 0x77, 0, 0, 2, 1}};
constexpr uint32_t kVip = 0x0a4d0064;      // 10.77.0.100
constexpr uint32_t kSchedIp = 0x0a4d0015;  // 10.77.0.21
constexpr uint16_t kNodes = 3;

MacAddr node_mac(uint16_t n) { return MacAddr{{0x02, 0x77, 0, 0, 1, static_cast<uint8_t>(n)}}; }

rte_mempool* pool() {
    static rte_mempool* mp = [] {
        const std::string prefix = "dlba-fuzz-" + std::to_string(getpid());
        std::vector<std::string> args = {"forwarder_fuzz", "--no-huge", "--no-pci", "--no-shconf", "-m", "64",
                                         "--log-level=error", "-l", "0", "--file-prefix", prefix};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        FUZZ_CHECK(rte_eal_init(static_cast<int>(argv.size()), argv.data()) >= 0);
        std::string err;
        static MempoolPtr p = make_packet_pool("fuzz_pool", 1023, &err);
        if (!p) std::fprintf(stderr, "%s\n", err.c_str());
        FUZZ_CHECK(p);
        return p.get();
    }();
    return mp;
}

pkt::ClassifierConfig make_config(bool active) {
    pkt::ClassifierConfig cfg;
    cfg.port_mac = kPortMac;
    cfg.vip = kVip;
    cfg.sched_ip = kSchedIp;
    for (uint16_t p : {80, 443, 8080}) cfg.tcp_ports.add(p);
    cfg.udp_ports.add(53);
    cfg.active = active;
    return cfg;
}

bool is_node_mac(const uint8_t* mac) {
    for (uint16_t n = 1; n <= kNodes; ++n) {
        if (std::memcmp(mac, node_mac(n).bytes.data(), 6) == 0) return true;
    }
    return false;
}

template <class Hash>
void run(const Hash& hash, const uint8_t* data, size_t size, bool active, bool no_node) {
    rte_mempool* mp = pool();
    const pkt::ClassifierConfig cfg = make_config(active);
    // Two tables made once (each allocates a 2 MiB-aligned map), emptied for every input: nodes 1..3 or none.
    static BucketTable* const kTables[2] = {new BucketTable(kMinTableSize, 60, 16),
                                            new BucketTable(kMinTableSize, 60, 16)};
    static const bool kNodesSet = [] {
        for (uint16_t n = 1; n <= kNodes; ++n) kTables[0]->set_node(n, node_mac(n), n, NodeAdmin::enabled);
        return true;
    }();
    (void)kNodesSet;
    BucketTable& table = *kTables[no_node ? 1 : 0];
    table.load_snapshot(std::vector<uint16_t>(table.size(), kUnassigned), 0, 0);
    FragmentTable fragments(64, 2000);
    LcoreCounters counters;
    Forwarder fwd(table, fragments, cfg, counters);

    std::vector<std::vector<uint8_t>> frames;
    rte_mbuf* in[kMaxBurst];
    size_t at = 0;
    while (at + 2 <= size && frames.size() < kMaxBurst) {
        size_t len = std::min<size_t>(size - at - 2, static_cast<size_t>(data[at]) << 8 | data[at + 1]);
        len = std::min<size_t>(len, 1518);
        frames.emplace_back(data + at + 2, data + at + 2 + len);
        at += 2 + len;
    }
    const unsigned avail_before = rte_mempool_avail_count(mp);
    for (size_t i = 0; i < frames.size(); ++i) {
        in[i] = rte_pktmbuf_alloc(mp);
        FUZZ_CHECK(in[i] != nullptr);
        void* dst = rte_pktmbuf_append(in[i], static_cast<uint16_t>(frames[i].size()));
        FUZZ_CHECK(dst != nullptr || frames[i].empty());
        if (!frames[i].empty()) std::memcpy(dst, frames[i].data(), frames[i].size());
    }
    rte_mbuf* given[kMaxBurst];
    std::memcpy(given, in, sizeof(rte_mbuf*) * frames.size());

    rte_mbuf* tx[kMaxBurst];
    const uint16_t n = static_cast<uint16_t>(frames.size());
    const uint16_t ntx = fwd.process(hash, in, n, tx, Clock{100, 100000});
    FUZZ_CHECK(ntx <= n);
    FUZZ_CHECK(rte_mempool_avail_count(mp) == avail_before - ntx);
    FUZZ_CHECK(counters.rx.get() == n);
    uint64_t accounted = counters.forwarded.get() + counters.arp_replies.get() + counters.echo_replies.get();
    for (const Counter& d : counters.drops) accounted += d.get();
    FUZZ_CHECK(accounted == n);
    FUZZ_CHECK(counters.forwarded.get() + counters.arp_replies.get() + counters.echo_replies.get() == ntx);

    // Walk the inputs in order: the sent ones appear in tx in the same order.
    uint16_t next = 0;
    for (uint16_t i = 0; i < n; ++i) {
        const std::vector<uint8_t>& f = frames[i];
        const pkt::Classified c = pkt::classify(f.data(), static_cast<uint32_t>(f.size()), cfg);
        const bool sent = next < ntx && tx[next] == given[i];
        if (!sent) {
            FUZZ_CHECK(c.action != pkt::Action::arp_reply && c.action != pkt::Action::echo_reply);
            continue;
        }
        ++next;
        FUZZ_CHECK(c.action != pkt::Action::drop);
        const rte_mbuf* m = given[i];
        FUZZ_CHECK(rte_pktmbuf_data_len(m) == f.size());
        const uint8_t* out = rte_pktmbuf_mtod(m, const uint8_t*);
        std::vector<uint8_t> want(f);
        if (c.action == pkt::Action::arp_reply) {
            pkt::make_arp_reply(want.data(), c.l3_offset, cfg.port_mac);
            FUZZ_CHECK(std::memcmp(out, want.data(), want.size()) == 0);
        } else if (c.action == pkt::Action::echo_reply) {
            pkt::make_echo_reply(want.data(), c.l3_offset, cfg.port_mac);
            FUZZ_CHECK(std::memcmp(out, want.data(), want.size()) == 0);
        } else {
            FUZZ_CHECK(!no_node);
            FUZZ_CHECK(is_node_mac(out));
            FUZZ_CHECK(std::memcmp(out + 6, kPortMac.bytes.data(), 6) == 0);
            FUZZ_CHECK(std::memcmp(out + 12, f.data() + 12, f.size() - 12) == 0);
        }
    }
    FUZZ_CHECK(next == ntx);
    rte_pktmbuf_free_bulk(tx, ntx);
    FUZZ_CHECK(rte_mempool_avail_count(mp) == avail_before);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const bool active = data[0] & 1, seed_sum = data[0] & 2, no_node = data[0] & 4;
    if (seed_sum) {
        run(SeedSumHash{kMinTableSize}, data + 1, size - 1, active, no_node);
    } else {
        run(MixHash{kMinTableSize, 0x6a09e667f3bcc908ULL}, data + 1, size - 1, active, no_node);
    }
    return 0;
}
