// One DPDK ethdev with one rx and one tx queue, owned by the data-plane lcore. RAII: stopped and closed on scope exit.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <rte_mempool.h>

#include "net_types.hpp"

namespace dlba::sched {

struct MempoolDeleter {
    void operator()(rte_mempool* mp) const { rte_mempool_free(mp); }
};
using MempoolPtr = std::unique_ptr<rte_mempool, MempoolDeleter>;

// Sized for one port: rx ring + tx ring + bursts in flight + per-lcore caches, with room to spare.
MempoolPtr make_packet_pool(const std::string& name, uint32_t mbufs, std::string* err);

class Port {
public:
    // Configures and starts the port. `want_mac`, when given, is programmed if the port's MAC differs (the config
    // is authoritative); a port that cannot take it is put in promiscuous mode and owns the MAC in software.
    static std::unique_ptr<Port> open(uint16_t port_id, rte_mempool* pool, const std::optional<MacAddr>& want_mac,
                                      std::string* err);
    ~Port();
    Port(const Port&) = delete;
    Port& operator=(const Port&) = delete;

    uint16_t id() const { return id_; }
    const MacAddr& mac() const { return mac_; }

private:
    explicit Port(uint16_t id) : id_(id) {}
    uint16_t id_;
    MacAddr mac_;
};

}  // namespace dlba::sched
