// bench_scheduler_burst: the scheduler's real per-burst code (Forwarder::process) against a plain MAC-swap loop over
// the same mbufs, side by side in one process and one run, so that the ratio says what the scheduler's own work
// (classification, bucket hash, bucket table, counters, MAC rewrite) costs on top of touching the packets at all.
//
//   bench_scheduler_burst [--seconds S] [--reps R] [--flows N] [--ring N] [--sizes 64,512]
//                         [--buckets 65536,16777216] [--hashes mix,seed_sum] [--modes prebuilt,refill] [--lcore L]
//   bench_scheduler_burst --write-pcap FILE [--frames N] [--frame-size B] [--dst-mac MAC]
//
// Packets: TCP from many distinct clients (random IPv4 addresses, 16 ephemeral ports each; the flow order is
// shuffled) to the VIP's port 80; frames of --sizes bytes as DPDK sees them (data_len; the wire adds the FCS).
// Two ways of feeding them, both applied identically to the two loops:
//   prebuilt  every flow has its own pre-built mbuf (1 Mi mbufs by default); a pass walks through all of them, so the
//             packet bytes come from DRAM as after a NIC's DMA into a large pool. After each burst the twelve MAC
//             bytes are written back, so the next pass classifies exactly like the first.
//   refill    a ring of --ring mbufs (4096) re-used burst after burst, warm in the caches as with DDIO; before each
//             burst the next flows' client IP and port and the original MACs are written into them.
// No tx: the forwarder's tx array is ignored (a real port's tx costs the same for both). Every forwarded frame is
// checked to have been forwarded (a drop would free an mbuf the benchmark still owns: it aborts instead).
// The --write-pcap form writes the same kind of frames to a pcap file for the binary comparison and needs no EAL.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>

#include "../support/frame_builder.hpp"
#include "bucket_hash.hpp"
#include "bucket_table.hpp"
#include "dataplane/forwarder.hpp"
#include "fragment_table.hpp"
#include "packet.hpp"

using namespace dlba;
using namespace dlba::sched;

namespace {

// The addresses of conf/dlba.conf (node 1's scheduler port; three nodes of weight 1).
const MacAddr kPortMac{{0x02, 0x77, 0, 0, 2, 1}};
const MacAddr kRouterMac{{0x02, 0x77, 0, 0, 0, 1}};
constexpr uint32_t kVip = 0x0a4d0064;      // 10.77.0.100
constexpr uint32_t kSchedIp = 0x0a4d0015;  // 10.77.0.21
constexpr uint16_t kServicePort = 80;
constexpr uint32_t kPortsPerClient = 16;
constexpr uint32_t kIdleTimeout = 300;
constexpr uint64_t kMixSeed = 0x5eed5eed5eed5eedULL;

MacAddr node_mac(uint16_t n) { return MacAddr{{0x02, 0x77, 0, 0, 1, static_cast<uint8_t>(n)}}; }

// Frame offsets of the fields the benchmark rewrites (untagged IPv4, IHL 5).
constexpr size_t kOffSrcIp = 14 + 12;
constexpr size_t kOffIpSum = 14 + 10;
constexpr size_t kOffSrcPort = 14 + 20;

struct Options {
    double seconds = 1.0;
    int reps = 3;
    uint32_t flows = 1u << 20;
    uint32_t ring = 4096;
    std::vector<uint32_t> sizes = {64, 512};
    std::vector<uint32_t> buckets = {65536, 16777216};
    std::vector<std::string> hashes = {"mix", "seed_sum"};
    std::vector<std::string> modes = {"prebuilt", "refill"};
    unsigned lcore = 1;
    // --write-pcap
    std::string pcap;
    uint32_t frames = 4096;
    uint32_t frame_size = 64;
    MacAddr dst_mac = kPortMac;
};

const char* kUsage =
    "usage: bench_scheduler_burst [--seconds S] [--reps R] [--flows N] [--ring N] [--sizes 64,512]\n"
    "                             [--buckets 65536,16777216] [--hashes mix,seed_sum] [--modes prebuilt,refill]\n"
    "                             [--lcore L]\n"
    "       bench_scheduler_burst --write-pcap FILE [--frames N] [--frame-size B] [--dst-mac MAC]\n";

[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "bench_scheduler_burst: %s\n", msg.c_str());
    std::exit(1);
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        const size_t comma = s.find(',', start);
        const size_t end = comma == std::string::npos ? s.size() : comma;
        if (end > start) out.push_back(s.substr(start, end - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

uint64_t number(const std::string& opt, const std::string& v, uint64_t lo, uint64_t hi) {
    char* end = nullptr;
    const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < lo || n > hi) {
        die(opt + " wants a number in " + std::to_string(lo) + ".." + std::to_string(hi) + ", not '" + v + "'");
    }
    return n;
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        }
        if (i + 1 >= argc) die(a + " needs a value (or is unknown)\n" + kUsage);
        const std::string v = argv[++i];
        if (a == "--seconds") {
            o.seconds = std::atof(v.c_str());
            if (!(o.seconds > 0 && o.seconds <= 600)) die("--seconds wants 0 < S <= 600");
        } else if (a == "--reps") {
            o.reps = static_cast<int>(number(a, v, 1, 100));
        } else if (a == "--flows") {
            o.flows = static_cast<uint32_t>(number(a, v, kMaxBurst, 1u << 24));
        } else if (a == "--ring") {
            o.ring = static_cast<uint32_t>(number(a, v, kMaxBurst, 1u << 20));
        } else if (a == "--sizes") {
            o.sizes.clear();
            for (const auto& s : split(v)) o.sizes.push_back(static_cast<uint32_t>(number(a, s, 64, 1500)));
        } else if (a == "--buckets") {
            o.buckets.clear();
            for (const auto& s : split(v)) o.buckets.push_back(static_cast<uint32_t>(number(a, s, kMinTableSize, kMaxTableSize)));
        } else if (a == "--hashes") {
            o.hashes = split(v);
            for (const auto& h : o.hashes) {
                if (!parse_hash_kind(h)) die("--hashes: '" + h + "' is not mix or seed_sum");
            }
        } else if (a == "--modes") {
            o.modes = split(v);
            for (const auto& m : o.modes) {
                if (m != "prebuilt" && m != "refill") die("--modes: '" + m + "' is not prebuilt or refill");
            }
        } else if (a == "--lcore") {
            o.lcore = static_cast<unsigned>(number(a, v, 0, RTE_MAX_LCORE - 1));
        } else if (a == "--write-pcap") {
            o.pcap = v;
        } else if (a == "--frames") {
            o.frames = static_cast<uint32_t>(number(a, v, 1, 1u << 20));
        } else if (a == "--frame-size") {
            o.frame_size = static_cast<uint32_t>(number(a, v, 64, 1500));
        } else if (a == "--dst-mac") {
            const auto m = MacAddr::parse(v);
            if (!m) die("--dst-mac: '" + v + "' is not a MAC address");
            o.dst_mac = *m;
        } else {
            die("unknown option '" + a + "'\n" + kUsage);
        }
    }
    if (o.sizes.empty() || o.buckets.empty() || o.hashes.empty() || o.modes.empty()) die("empty list option");
    o.flows -= o.flows % kMaxBurst;
    o.ring -= o.ring % kMaxBurst;
    return o;
}

// ---- traffic -------------------------------------------------------------------------------------------------------

struct Flow {
    uint32_t ip;    // client, host order
    uint16_t port;  // client
};

uint32_t fmix32(uint32_t h) {  // murmur3's finaliser: a bijection, so distinct inputs give distinct addresses
    h ^= h >> 16;
    h *= 0x85ebca6b;
    h ^= h >> 13;
    h *= 0xc2b2ae35;
    h ^= h >> 16;
    return h;
}

// n distinct (client IP, client port) pairs: ceil(n / 16) clients with distinct pseudo-random unicast addresses,
// 16 distinct ephemeral ports each; shuffled with a fixed seed so that consecutive packets are unrelated flows, as on
// a busy link. Addresses come from a bijection of a counter, filtered (which keeps them distinct) to 1.0.0.0 ..
// 223.255.255.255 without loopback, the VIP and the scheduler IP.
std::vector<Flow> make_flows(uint32_t n) {
    std::vector<Flow> flows;
    flows.reserve(n);
    for (uint32_t c = 1; flows.size() < n; ++c) {
        const uint32_t ip = fmix32(c);
        const uint32_t first = ip >> 24;
        if (first == 0 || first == 127 || first >= 224 || ip == kVip || ip == kSchedIp) continue;
        const uint32_t base = fmix32(c ^ 0x9e3779b9u) % 64512u;
        for (uint32_t k = 0; k < kPortsPerClient && flows.size() < n; ++k) {
            // k * 4001 < 64512 for k < 16: distinct ports per client
            flows.push_back({ip, static_cast<uint16_t>(1024 + (base + k * 4001u) % 64512u)});
        }
    }
    std::mt19937_64 rng(42);
    std::shuffle(flows.begin(), flows.end(), rng);
    return flows;
}

// A valid TCP segment from the client to VIP:80, `size` bytes long.
std::vector<uint8_t> frame_for(const Flow& f, uint32_t size, const MacAddr& dst) {
    return testing::FrameBuilder()
        .eth(dst, kRouterMac)
        .ip(f.ip, kVip)
        .ports(f.port, kServicePort)
        .payload(std::vector<uint8_t>(size - 54, 0x5a))
        .build();
}

void write_pcap(const Options& o) {
    const std::vector<Flow> flows = make_flows(o.frames);
    std::FILE* out = std::fopen(o.pcap.c_str(), "wb");
    if (!out) die("cannot write " + o.pcap + ": " + std::strerror(errno));
    const auto put32 = [&](uint32_t v) { std::fwrite(&v, 4, 1, out); };  // pcap headers are in host order
    const auto put16 = [&](uint16_t v) { std::fwrite(&v, 2, 1, out); };
    put32(0xa1b2c3d4), put16(2), put16(4), put32(0), put32(0), put32(65535), put32(1 /* Ethernet */);
    for (uint32_t i = 0; i < o.frames; ++i) {
        const std::vector<uint8_t> f = frame_for(flows[i], o.frame_size, o.dst_mac);
        put32(i / 1000000), put32(i % 1000000), put32(static_cast<uint32_t>(f.size())), put32(static_cast<uint32_t>(f.size()));
        std::fwrite(f.data(), 1, f.size(), out);
    }
    if (std::fclose(out) != 0) die("cannot write " + o.pcap);
    std::printf("%s: %u frames of %u bytes, %u flows, dst %s\n", o.pcap.c_str(), o.frames, o.frame_size, o.frames,
                o.dst_mac.str().c_str());
}

// ---- the two loops -------------------------------------------------------------------------------------------------

// The twelve MAC bytes every input frame starts with: dst = our port, src = the router.
struct MacPair {
    uint8_t bytes[12];
};

MacPair original_macs() {
    MacPair m;
    std::memcpy(m.bytes, kPortMac.bytes.data(), 6);
    std::memcpy(m.bytes + 6, kRouterMac.bytes.data(), 6);
    return m;
}

// prebuilt: after a burst, put the MACs back (the forwarder wrote a node's MAC, the swap swapped them).
inline void restore(rte_mbuf** b, uint16_t n, const MacPair& macs) {
    for (uint16_t i = 0; i < n; ++i) std::memcpy(rte_pktmbuf_mtod(b[i], uint8_t*), macs.bytes, 12);
}

// refill: before a burst, "receive" the next flows into the ring's mbufs. The IP header checksum goes stale; the
// scheduler does not check it (nor rewrite anything but the MACs), so this does not change its work.
inline void refill(rte_mbuf** b, uint16_t n, const Flow* f, const MacPair& macs) {
    for (uint16_t i = 0; i < n; ++i) {
        uint8_t* p = rte_pktmbuf_mtod(b[i], uint8_t*);
        std::memcpy(p, macs.bytes, 12);
        pkt::store32(p + kOffSrcIp, f[i].ip);
        pkt::store16(p + kOffSrcPort, f[i].port);
    }
}

// What testpmd's macswap forwarding does to each frame, and nothing more.
inline void macswap(rte_mbuf** b, uint16_t n) {
    constexpr uint16_t kAhead = 3;  // the forwarder's prefetch distance
    for (uint16_t i = 0; i < n && i < kAhead; ++i) rte_prefetch0(rte_pktmbuf_mtod(b[i], void*));
    for (uint16_t i = 0; i < n; ++i) {
        if (i + kAhead < n) rte_prefetch0(rte_pktmbuf_mtod(b[i + kAhead], void*));
        uint8_t* p = rte_pktmbuf_mtod(b[i], uint8_t*);
        uint8_t tmp[6];
        std::memcpy(tmp, p, 6);
        std::memcpy(p, p + 6, 6);
        std::memcpy(p + 6, tmp, 6);
    }
}

inline Clock read_clock() {  // as the worker does once per burst (vDSO, no system call)
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return {static_cast<uint32_t>(ts.tv_sec), static_cast<uint64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000};
}

enum class Mode { prebuilt, refill };

struct Feed {
    Mode mode;
    rte_mbuf** mbufs;  // prebuilt: one per flow; refill: the ring
    uint32_t nmbufs;
    const Flow* flows;
    uint32_t nflows;
};

struct Rate {
    double mpps = 0;        // per second on the CPU (see timed())
    double ns_per_pkt = 0;
    double cpu_share = 0;   // CPU time / wall time of the measurement: below 1 when other work took the core
};

double thread_cpu_seconds() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

// Runs `work` over bursts of 32 from `feed` until this thread has had `seconds` of CPU time (checked every 64
// bursts). Rates are per second of CPU time: the machine is shared, and time slices lost to other processes would
// otherwise count against whichever loop happened to be running. The loops never block, so on a quiet machine CPU
// time and wall time agree (cpu_share 1).
template <class Work>
Rate timed(const Feed& feed, double seconds, const MacPair& macs, Work&& work) {
    using clk = std::chrono::steady_clock;
    uint64_t packets = 0;
    uint32_t pos = 0, fpos = 0;
    const auto wall_start = clk::now();
    const double start = thread_cpu_seconds();
    double now = start;
    do {
        for (int k = 0; k < 64; ++k) {
            rte_mbuf** b = feed.mbufs + pos;
            if (feed.mode == Mode::refill) {
                refill(b, kMaxBurst, feed.flows + fpos, macs);
                fpos += kMaxBurst;
                if (fpos >= feed.nflows) fpos = 0;
            }
            work(b, kMaxBurst);
            if (feed.mode == Mode::prebuilt) restore(b, kMaxBurst, macs);
            pos += kMaxBurst;
            if (pos >= feed.nmbufs) pos = 0;
        }
        packets += 64 * kMaxBurst;
        now = thread_cpu_seconds();
    } while (now - start < seconds);
    const double cpu = now - start;
    const double wall = std::chrono::duration<double>(clk::now() - wall_start).count();
    return {packets / cpu / 1e6, cpu * 1e9 / packets, cpu / wall};
}

// One untimed pass over every flow: assigns the buckets, so that the timed passes measure the steady state.
template <class Work>
void one_pass(const Feed& feed, const MacPair& macs, Work&& work) {
    const uint32_t n = feed.mode == Mode::prebuilt ? feed.nmbufs : feed.nflows;
    uint32_t pos = 0;
    for (uint32_t done = 0; done < n; done += kMaxBurst) {
        rte_mbuf** b = feed.mbufs + pos;
        if (feed.mode == Mode::refill) refill(b, kMaxBurst, feed.flows + done, macs);
        work(b, kMaxBurst);
        if (feed.mode == Mode::prebuilt) restore(b, kMaxBurst, macs);
        pos += kMaxBurst;
        if (pos >= feed.nmbufs) pos = 0;
    }
}

struct Row {
    std::string mode;
    uint32_t size;
    uint32_t buckets;
    std::string hash;
    Rate macswap, forwarder;
    uint64_t buckets_used;
    double min_cpu_share;
};

// The forwarder's world for one table: the configuration of conf/dlba.conf, three nodes of weight 1, active.
struct Rig {
    BucketTable table;
    FragmentTable fragments{4096, 2000};
    pkt::ClassifierConfig cfg;
    std::unique_ptr<LcoreCounters> counters = std::make_unique<LcoreCounters>();
    Forwarder fwd;

    explicit Rig(uint32_t buckets) : table(buckets, kIdleTimeout), fwd(table, fragments, cfg, *counters) {
        cfg.port_mac = kPortMac;
        cfg.vip = kVip;
        cfg.sched_ip = kSchedIp;
        cfg.tcp_ports.add(kServicePort);
        cfg.tcp_ports.add(443);
        cfg.active = true;
        for (uint16_t n = 1; n <= 3; ++n) table.set_node(n, node_mac(n), 1, NodeAdmin::enabled);
    }
};

template <class Hash>
void run_table(const Options& o, const Hash& hash, const char* hash_name, uint32_t buckets, uint32_t size,
               const std::vector<Feed>& feeds, std::vector<Row>& rows) {
    Rig rig(buckets);
    const MacPair macs = original_macs();
    rte_mbuf* tx[kMaxBurst];
    const auto forward = [&](rte_mbuf** b, uint16_t n) {
        const uint16_t ntx = rig.fwd.process(hash, b, n, tx, read_clock());
        if (__builtin_expect(ntx != n, 0)) {
            die("the forwarder dropped " + std::to_string(n - ntx) + " of a burst of " + std::to_string(n) +
                " (see the counters: the frames or the rig are wrong)");
        }
    };
    const auto swap = [](rte_mbuf** b, uint16_t n) { macswap(b, n); };
    for (const Feed& feed : feeds) {
        one_pass(feed, macs, forward);
        one_pass(feed, macs, swap);
        Row row{feed.mode == Mode::prebuilt ? "prebuilt" : "refill", size, buckets, hash_name, {}, {}, 0, 1.0};
        // Alternate the two loops and keep each one's best: other work on the machine only ever slows a loop down.
        for (int r = 0; r < o.reps; ++r) {
            const Rate s = timed(feed, o.seconds, macs, swap);
            const Rate f = timed(feed, o.seconds, macs, forward);
            if (s.mpps > row.macswap.mpps) row.macswap = s;
            if (f.mpps > row.forwarder.mpps) row.forwarder = f;
            row.min_cpu_share = std::min({row.min_cpu_share, s.cpu_share, f.cpu_share});
        }
        row.buckets_used = buckets - rig.table.unassigned_buckets();
        rows.push_back(row);
        std::printf("%-9s %5u %10u  %-8s  %8.2f %7.2f   %8.2f %7.2f   %6.3f  %+7.2f  %10llu  %4.0f%%\n", row.mode.c_str(),
                    size, buckets, hash_name, row.macswap.mpps, row.macswap.ns_per_pkt, row.forwarder.mpps,
                    row.forwarder.ns_per_pkt, row.forwarder.mpps / row.macswap.mpps,
                    row.forwarder.ns_per_pkt - row.macswap.ns_per_pkt, static_cast<unsigned long long>(row.buckets_used),
                    100 * row.min_cpu_share);
        std::fflush(stdout);
    }
    // Whatever happened, the books must balance: every packet forwarded, none dropped.
    const LcoreCounters& c = *rig.counters;
    uint64_t drops = 0;
    for (const auto& d : c.drops) drops += d.get();
    if (drops != 0 || c.forwarded.get() != c.rx.get()) {
        die("counters do not balance: rx " + std::to_string(c.rx.get()) + " forwarded " +
            std::to_string(c.forwarded.get()) + " dropped " + std::to_string(drops));
    }
}

struct PoolDeleter {
    void operator()(rte_mempool* mp) const { rte_mempool_free(mp); }
};

uint32_t data_room_for(uint32_t size) { return RTE_PKTMBUF_HEADROOM + ((size + 63) / 64) * 64; }

// Rough bytes per mbuf in a pool: header + data room + mempool object header, cache-line aligned.
uint64_t mbuf_footprint(uint32_t size) { return sizeof(rte_mbuf) + data_room_for(size) + 64; }

void init_eal(const Options& o) {
    uint64_t need = 0;
    for (uint32_t s : o.sizes) need = std::max<uint64_t>(need, mbuf_footprint(s) * (o.flows + o.ring));
    // Pools are created one frame size at a time; leave room for the heap's own overhead and fragmentation.
    const uint64_t mb = need / (1 << 20) * 5 / 4 + 256;
    const std::string prefix = "dlba-bench-" + std::to_string(getpid());
    std::vector<std::string> args = {"bench_scheduler_burst", "--no-huge", "--no-pci", "--no-shconf", "-m",
                                     std::to_string(mb), "--log-level=error", "-l", std::to_string(o.lcore),
                                     "--file-prefix", prefix, "--no-telemetry"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
        die(std::string("EAL initialisation failed: ") + rte_strerror(rte_errno));
    }
}

int run(const Options& o) {
    init_eal(o);
    const std::vector<Flow> flows = make_flows(o.flows);
    std::printf("scheduler burst benchmark: Forwarder::process vs a plain MAC swap over the same mbufs\n");
    std::printf("%u flows (%u clients x %u ports, shuffled) to VIP:%u, burst %u, best of %d x %.2f CPU-s per loop, lcore %u\n",
                o.flows, (o.flows + kPortsPerClient - 1) / kPortsPerClient, kPortsPerClient, kServicePort, kMaxBurst,
                o.reps, o.seconds, rte_lcore_id());
    std::printf("prebuilt: %u pre-built mbufs, one per flow; refill: a ring of %u mbufs refilled with the next flows\n",
                o.flows, o.ring);
    std::printf("rates per second of CPU time of the benchmark thread; cpu = lowest CPU time / wall time of the case's\n"
                "measurements (below 100%%: other processes took the core for that share)\n");
    std::printf("%-9s %5s %10s  %-8s  %8s %7s   %8s %7s   %6s  %7s  %10s  %5s\n", "mode", "bytes", "buckets", "hash",
                "swap", "ns/pkt", "fwd", "ns/pkt", "fwd/sw", "+ns/pkt", "buckets", "cpu");
    std::printf("%-9s %5s %10s  %-8s  %8s %7s   %8s %7s   %6s  %7s  %10s\n", "", "", "", "", "Mpps", "", "Mpps", "",
                "(Mpps)", "(fwd)", "used");
    std::vector<Row> rows;
    for (const uint32_t size : o.sizes) {
        const std::string name = "bench_" + std::to_string(size);
        std::unique_ptr<rte_mempool, PoolDeleter> pool(rte_pktmbuf_pool_create(
            name.c_str(), o.flows + o.ring, 0, 0, static_cast<uint16_t>(data_room_for(size)), SOCKET_ID_ANY));
        if (!pool) die(std::string("cannot create the mbuf pool: ") + rte_strerror(rte_errno));
        std::vector<rte_mbuf*> all(o.flows + o.ring);
        if (rte_pktmbuf_alloc_bulk(pool.get(), all.data(), static_cast<unsigned>(all.size())) != 0) {
            die("cannot allocate " + std::to_string(all.size()) + " mbufs");
        }
        // One template, then per flow only the client address, its header checksum and the port.
        const std::vector<uint8_t> tmpl = frame_for(flows[0], size, kPortMac);
        for (size_t i = 0; i < all.size(); ++i) {
            auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(all[i], static_cast<uint16_t>(size)));
            if (!p) die("mbuf too small");
            std::memcpy(p, tmpl.data(), size);
            const Flow& f = flows[i % flows.size()];
            pkt::store32(p + kOffSrcIp, f.ip);
            pkt::store16(p + kOffIpSum, 0);
            pkt::store16(p + kOffIpSum, pkt::inet_checksum(p + 14, 20));
            pkt::store16(p + kOffSrcPort, f.port);
        }
        std::vector<Feed> feeds;
        for (const auto& m : o.modes) {
            if (m == "prebuilt") feeds.push_back({Mode::prebuilt, all.data(), o.flows, flows.data(), o.flows});
            if (m == "refill") feeds.push_back({Mode::refill, all.data() + o.flows, o.ring, flows.data(), o.flows});
        }
        for (const uint32_t buckets : o.buckets) {
            for (const auto& h : o.hashes) {
                if (*parse_hash_kind(h) == HashKind::mix) {
                    run_table(o, MixHash{buckets, kMixSeed}, "mix", buckets, size, feeds, rows);
                } else {
                    run_table(o, SeedSumHash{buckets}, "seed_sum", buckets, size, feeds, rows);
                }
            }
        }
        rte_pktmbuf_free_bulk(all.data(), static_cast<unsigned>(all.size()));
    }
    // One summary line per table size, mix hash, 64-byte frames, prebuilt: the configuration the issue asks about.
    for (const Row& r : rows) {
        if (r.hash == "mix" && r.size == o.sizes.front() && r.mode == o.modes.front()) {
            std::printf("forwarder/macswap[%s,%uB,%u buckets,mix]=%.3f\n", r.mode.c_str(), r.size, r.buckets,
                        r.forwarder.mpps / r.macswap.mpps);
        }
    }
    // EAL leaves its (empty, with --no-shconf --no-telemetry) runtime directory behind; it is ours, remove it.
    const std::string runtime_dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    rmdir(runtime_dir.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    if (!o.pcap.empty()) {
        write_pcap(o);
        return 0;
    }
    return run(o);
}
