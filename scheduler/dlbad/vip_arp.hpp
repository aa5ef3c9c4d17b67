// Who answers ARP for the VIP, seen from this node's eth0: the independent check of the heartbeat view. Once per
// round it broadcasts an ARP request for the VIP from eth0 (a raw AF_PACKET socket: the kernel would never ask,
// the VIP being local on lo) and collects every reply and every announcement (gratuitous ARP) for the VIP until
// the next round. The MACs that spoke are mapped to nodes by their scheduler-port MACs in the configuration.
//
// One MAC is the normal case. None means no scheduler answers for the VIP (clients cannot reach it). Two or more
// mean two schedulers claim the VIP at once: a split brain, or an orphan (an active scheduler whose dlbad died, so
// that its peers elected another), or a foreign host using the VIP's address.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/fd.hpp"
#include "net_types.hpp"

namespace dlba::dlbad {

class VipArpWatcher {
public:
    // Opens the socket on the interface that holds `eth0_ip`.
    bool open(uint32_t eth0_ip, uint32_t vip, std::string* err);
    int fd() const { return fd_.get(); }
    const std::string& interface() const { return ifname_; }

    // Ends the current round (its result becomes last_round()) and sends the next request.
    void next_round();
    // Drains the socket, noting the MACs that spoke for the VIP in the current round.
    void receive();
    // The distinct MACs heard during the last completed round, in order of first answer.
    const std::vector<MacAddr>& last_round() const { return last_; }
    uint64_t rounds() const { return rounds_; }

private:
    io::Fd fd_;
    int ifindex_ = 0;
    std::string ifname_;
    MacAddr mac_;
    uint32_t ip_ = 0;
    uint32_t vip_ = 0;
    std::vector<MacAddr> current_;
    std::vector<MacAddr> last_;
    uint64_t rounds_ = 0;
};

}  // namespace dlba::dlbad
