// How many client connections each IPv4 address has open in this process, for server.limits.max_connections_per_ip:
// one client (a slowloris, a flood of half-open TLS handshakes) must not take every connection the process can hold.
//
// Shared by the workers without a lock: a fixed open-addressing table of 64-bit atomic slots, each an address and
// its count (count 0 = free, whatever address it last held), probed over a short window from a seeded hash of the
// address. Accepting a connection is one scan of the window and one compare-and-swap; closing it one more. Sized at
// start for twice the process's max_connections addresses, so the table cannot fill while that limit holds; should
// a window fill anyway (a reload raised max_connections a lot), the connection is let in uncounted (`untracked`)
// rather than refused for someone else's sake.
//
// Exact except under one race: two workers adding the same new address at the same moment while a third frees a
// slot ahead of it may give the address two slots; the limit is then checked per slot, so it may let in up to
// (workers - 1) connections more than the limit until those close. The total is always exact.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace dlba::server {

enum class IpAdmission : uint8_t {
    counted,    // let in and counted: release() it when the connection closes
    refused,    // the address has `limit` connections open already
    untracked,  // let in, not counted (no slot free in the address's window): nothing to release
};

class ConnectionsPerIp {
public:
    // Room for `addresses` addresses at once (rounded up to a power of two, 1024 .. kMaxSlots slots).
    explicit ConnectionsPerIp(size_t addresses, uint32_t seed = 0x9e3779b9u);
    ConnectionsPerIp(const ConnectionsPerIp&) = delete;
    ConnectionsPerIp& operator=(const ConnectionsPerIp&) = delete;

    // One more connection from `ip` unless it has `limit` open already (0 = no limit: always counted, so that a
    // limit set by a reload sees the connections already open).
    IpAdmission admit(uint32_t ip, uint32_t limit);
    // A connection admit() counted has closed.
    void release(uint32_t ip);
    // Connections open from `ip` (for tests and the monitor).
    uint32_t open(uint32_t ip) const;
    size_t slots() const { return mask_ + 1; }

    static constexpr size_t kWindow = 32;        // slots probed per address
    static constexpr size_t kMaxSlots = 1 << 22;  // 32 MiB: past 4M addresses at once, new ones go untracked

private:
    size_t home(uint32_t ip) const;

    std::unique_ptr<std::atomic<uint64_t>[]> slots_;
    size_t mask_;
    uint32_t seed_;
};

}  // namespace dlba::server
