// What the failover loop sends and hears on eth0, behind one interface so the loop can be tested with a fake:
// heartbeats to and from the peers (UDP), ICMP probes of the schedulers' data planes, and the VIP's ARP answers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config/array_config.hpp"
#include "heartbeat.hpp"
#include "icmp_probe.hpp"
#include "net_types.hpp"
#include "peer_auth.hpp"
#include "vip_arp.hpp"
#include "io/fd.hpp"

namespace dlba::dlbad {

class FailoverNet {
public:
    using HeartbeatHandler = std::function<void(const hb::Message& m, uint32_t from_ip)>;

    virtual ~FailoverNet() = default;
    // Waits up to timeout_ms for traffic, then takes in whatever came: ARP answers for the VIP, heartbeats (each
    // handed to on_heartbeat with the sender's address), probe answers.
    virtual void wait(int timeout_ms, const HeartbeatHandler& on_heartbeat) = 0;
    virtual void send_heartbeat(const hb::Message& m) = 0;  // to every peer's eth0
    // Starts a probe round: one echo request per target (node -> scheduler-port IP); forgets the previous round.
    virtual void send_probes(const std::map<uint16_t, uint32_t>& targets) = 0;
    virtual bool probed(uint16_t node) const = 0;  // in the current round
    virtual bool probe_answered(uint16_t node) const = 0;
    // Ends the VIP's ARP round (its MACs become vip_arp_last_round()) and asks again.
    virtual void next_vip_arp_round() = 0;
    virtual const std::vector<MacAddr>& vip_arp_last_round() const = 0;
    virtual uint64_t vip_arp_rounds() const = 0;
    // Peers whose heartbeats came from their own address but did not verify with our keys (a wrong key), and when
    // the last one came (monotonic ms): the failover loop reports them, and isolates itself when it hears nobody
    // else. Fakes without authentication have none.
    virtual std::map<uint16_t, uint64_t> unverified_peers() const { return {}; }
    // Authenticated heartbeats refused by their content (another format version, malformed), counted and logged.
    virtual uint64_t heartbeats_refused() const { return 0; }
};

// The real sockets: the heartbeat socket on eth0, the raw ICMP socket, the VIP's ARP watcher.
class FailoverSockets final : public FailoverNet {
public:
    // Heartbeats are sealed by auth.signer and checked by auth.heartbeats (common/auth).
    FailoverSockets(const ArrayConfig& config, const NodeConfig& self, PeerAuth& auth)
        : config_(config), self_(self), auth_(auth) {}
    bool open_heartbeat(std::string* err);
    bool open_probes(std::string* err);  // ICMP and ARP

    void wait(int timeout_ms, const HeartbeatHandler& on_heartbeat) override;
    void send_heartbeat(const hb::Message& m) override;
    void send_probes(const std::map<uint16_t, uint32_t>& targets) override { prober_.send_round(targets); }
    bool probed(uint16_t node) const override { return prober_.probed(node); }
    bool probe_answered(uint16_t node) const override { return prober_.answered(node); }
    void next_vip_arp_round() override { vip_arp_.next_round(); }
    const std::vector<MacAddr>& vip_arp_last_round() const override { return vip_arp_.last_round(); }
    uint64_t vip_arp_rounds() const override { return vip_arp_.rounds(); }
    std::map<uint16_t, uint64_t> unverified_peers() const override { return unverified_; }
    uint64_t heartbeats_refused() const override { return heartbeats_refused_; }

private:
    void receive_heartbeats(const HeartbeatHandler& on_heartbeat);
    void note_unverified(uint32_t from_ip);
    void note_refused(hb::Refusal why, uint32_t from_ip);

    static constexpr uint64_t kRefusalLogMs = 60000;

    const ArrayConfig& config_;
    const NodeConfig& self_;
    PeerAuth& auth_;
    std::map<uint16_t, uint64_t> unverified_;
    uint64_t heartbeats_refused_ = 0;
    uint64_t refused_logged_ms_ = 0;
    io::Fd hb_fd_;
    IcmpProber prober_;
    VipArpWatcher vip_arp_;
};

}  // namespace dlba::dlbad
