#include "port.hpp"

#include <cstdio>
#include <cstring>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

namespace dlba::sched {

namespace {
constexpr uint16_t kRxDescriptors = 1024;
constexpr uint16_t kTxDescriptors = 1024;
constexpr unsigned kPoolCache = 256;
}  // namespace

MempoolPtr make_packet_pool(const std::string& name, uint32_t mbufs, std::string* err) {
    rte_mempool* mp = rte_pktmbuf_pool_create(name.c_str(), mbufs, kPoolCache, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                              static_cast<int>(rte_socket_id()));
    if (!mp) *err = std::string("cannot create the mbuf pool: ") + rte_strerror(rte_errno);
    return MempoolPtr(mp);
}

std::unique_ptr<Port> Port::open(uint16_t port_id, rte_mempool* pool, const std::optional<MacAddr>& want_mac,
                                 std::string* err) {
    if (!rte_eth_dev_is_valid_port(port_id)) {
        *err = "no DPDK port " + std::to_string(port_id) + " (pass one with --vdev or a bound NIC)";
        return nullptr;
    }
    std::unique_ptr<Port> port(new Port(port_id));
    rte_eth_conf conf{};
    int rc = rte_eth_dev_configure(port_id, 1, 1, &conf);
    if (rc < 0) {
        *err = std::string("rte_eth_dev_configure: ") + rte_strerror(-rc);
        return nullptr;
    }
    uint16_t nb_rx = kRxDescriptors, nb_tx = kTxDescriptors;
    rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rx, &nb_tx);
    const int socket = rte_eth_dev_socket_id(port_id);
    rc = rte_eth_rx_queue_setup(port_id, 0, nb_rx, socket < 0 ? 0 : socket, nullptr, pool);
    if (rc < 0) {
        *err = std::string("rx queue setup: ") + rte_strerror(-rc);
        return nullptr;
    }
    rc = rte_eth_tx_queue_setup(port_id, 0, nb_tx, socket < 0 ? 0 : socket, nullptr);
    if (rc < 0) {
        *err = std::string("tx queue setup: ") + rte_strerror(-rc);
        return nullptr;
    }
    rte_ether_addr addr;
    rte_eth_macaddr_get(port_id, &addr);
    std::memcpy(port->mac_.bytes.data(), addr.addr_bytes, 6);
    bool software_mac = false;
    if (want_mac && !(*want_mac == port->mac_)) {
        std::memcpy(addr.addr_bytes, want_mac->bytes.data(), 6);
        rc = rte_eth_dev_default_mac_addr_set(port_id, &addr);
        if (rc < 0) {
            // Some PMDs (pcap files, a few NICs) cannot take a MAC. The classifier checks destination MACs itself,
            // so the port can still own the configured MAC in software if it hands us every frame.
            std::fprintf(stderr, "<4>dlba-scheduler: port %u cannot take MAC %s (%s); filtering it in software\n",
                         port_id, want_mac->str().c_str(), rte_strerror(-rc));
            software_mac = true;
        }
        port->mac_ = *want_mac;
    }
    rc = rte_eth_dev_start(port_id);
    if (rc < 0) {
        *err = std::string("rte_eth_dev_start: ") + rte_strerror(-rc);
        return nullptr;
    }
    // Let the NIC filter by MAC where it can; the classifier checks the destination MAC anyway, because some
    // PMDs (af_packet on a bridge port) still see flooded frames.
    if (software_mac) {
        rte_eth_promiscuous_enable(port_id);
    } else {
        rte_eth_promiscuous_disable(port_id);
    }
    return port;
}

Port::~Port() {
    rte_eth_dev_stop(id_);
    rte_eth_dev_close(id_);
}

}  // namespace dlba::sched
