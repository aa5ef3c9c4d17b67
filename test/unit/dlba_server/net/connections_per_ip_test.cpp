// ConnectionsPerIp: the per-client-address connection counts behind server.limits.max_connections_per_ip.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "net/connections_per_ip.hpp"

using namespace dlba::server;

namespace {

constexpr uint32_t kClient = 0x0a4d0102;  // 10.77.1.2
constexpr uint32_t kOther = 0x0a4d0103;   // 10.77.1.3

}  // namespace

TEST_CASE("an address is let in up to its limit, refused past it, and let in again once one closes",
          "[net][per_ip]") {
    ConnectionsPerIp t(100);
    for (int i = 0; i < 3; ++i) REQUIRE(t.admit(kClient, 3) == IpAdmission::counted);
    CHECK(t.open(kClient) == 3);
    CHECK(t.admit(kClient, 3) == IpAdmission::refused);
    CHECK(t.open(kClient) == 3);  // a refusal counts nothing
    t.release(kClient);
    CHECK(t.open(kClient) == 2);
    CHECK(t.admit(kClient, 3) == IpAdmission::counted);
    CHECK(t.admit(kClient, 3) == IpAdmission::refused);
}

TEST_CASE("one address at its limit does not keep out another", "[net][per_ip]") {
    ConnectionsPerIp t(100);
    for (int i = 0; i < 5; ++i) REQUIRE(t.admit(kClient, 5) == IpAdmission::counted);
    REQUIRE(t.admit(kClient, 5) == IpAdmission::refused);
    for (int i = 0; i < 5; ++i) CHECK(t.admit(kOther, 5) == IpAdmission::counted);
    CHECK(t.open(kClient) == 5);
    CHECK(t.open(kOther) == 5);
}

TEST_CASE("limit 0 counts every connection and refuses none, so a limit set later sees them", "[net][per_ip]") {
    ConnectionsPerIp t(100);
    for (int i = 0; i < 1000; ++i) REQUIRE(t.admit(kClient, 0) == IpAdmission::counted);
    CHECK(t.open(kClient) == 1000);
    CHECK(t.admit(kClient, 10) == IpAdmission::refused);  // a reload set 10: the 1,000 open count
    for (int i = 0; i < 991; ++i) t.release(kClient);
    CHECK(t.admit(kClient, 10) == IpAdmission::counted);
}

TEST_CASE("the table is sized for the addresses asked, a power of two from 1024 slots to kMaxSlots", "[net][per_ip]") {
    CHECK(ConnectionsPerIp(1).slots() == 1024);
    CHECK(ConnectionsPerIp(20000).slots() == 32768);
    CHECK(ConnectionsPerIp(20000000).slots() == ConnectionsPerIp::kMaxSlots);  // max_connections 10M: 32 MiB, no more
}

TEST_CASE("a full table lets a new address in uncounted; freed slots are used again", "[net][per_ip]") {
    ConnectionsPerIp t(1024);
    size_t counted = 0;
    uint32_t untracked_ip = 0;
    // More addresses than slots: once every slot of some address's window is taken, that address is untracked.
    for (uint32_t ip = 1; ip <= 2048; ++ip) {
        const IpAdmission a = t.admit(ip, 1);
        REQUIRE(a != IpAdmission::refused);
        if (a == IpAdmission::counted) ++counted;
        if (a == IpAdmission::untracked && untracked_ip == 0) untracked_ip = ip;
    }
    CHECK(counted <= t.slots());
    REQUIRE(untracked_ip != 0);
    CHECK(t.open(untracked_ip) == 0);
    // Every counted connection closes: every slot is free again, and every address is counted once more.
    for (uint32_t ip = 1; ip <= 2048; ++ip) {
        if (t.open(ip) != 0) t.release(ip);
    }
    for (uint32_t ip = 1; ip <= 2048; ++ip) REQUIRE(t.open(ip) == 0);
    for (uint32_t ip = 5000; ip < 5500; ++ip) CHECK(t.admit(ip, 1) == IpAdmission::counted);
}

TEST_CASE("many short connections from changing addresses never wear the table out", "[net][per_ip]") {
    ConnectionsPerIp t(1024);
    for (uint32_t i = 0; i < 200000; ++i) {
        const uint32_t ip = 0x0a000000 + i * 7919;
        REQUIRE(t.admit(ip, 2) == IpAdmission::counted);
        REQUIRE(t.admit(ip + 1, 2) == IpAdmission::counted);
        t.release(ip);
        t.release(ip + 1);
    }
    CHECK(t.admit(kClient, 1) == IpAdmission::counted);
}

TEST_CASE("workers admitting and releasing one address at once never let in more than the limit",
          "[net][per_ip]") {
    ConnectionsPerIp t(1000);
    constexpr uint32_t kLimit = 2;  // below the number of threads: they contend for the last slot
    std::atomic<int> held{0};
    std::atomic<int> most{0};
    std::atomic<uint64_t> refusals{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < 4; ++w) {
        workers.emplace_back([&] {
            for (int i = 0; i < 50000; ++i) {
                if (t.admit(kClient, kLimit) != IpAdmission::counted) {
                    refusals.fetch_add(1);
                    continue;
                }
                const int now = held.fetch_add(1) + 1;
                int seen = most.load();
                while (now > seen && !most.compare_exchange_weak(seen, now)) {
                }
                held.fetch_sub(1);
                t.release(kClient);
            }
        });
    }
    for (std::thread& th : workers) th.join();
    CHECK(most.load() <= static_cast<int>(kLimit));
    CHECK(t.open(kClient) == 0);
    INFO("refusals: " << refusals.load());
    CHECK(t.admit(kClient, kLimit) == IpAdmission::counted);
}
