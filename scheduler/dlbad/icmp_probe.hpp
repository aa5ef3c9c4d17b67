// ICMP echo probes from the kernel stack (eth0) to schedulers' data planes: the scheduler-port IPs are answered by
// DPDK itself, so an answer proves the data plane is polling, not merely that the host is up.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "io/fd.hpp"

namespace dlba::dlbad {

class IcmpProber {
public:
    bool open(std::string* err);
    int fd() const { return fd_.get(); }
    // Starts a new round: forgets answers of the previous one and sends one echo request per target.
    void send_round(const std::map<uint16_t, uint32_t>& targets);  // node -> scheduler-port IP
    // Drains the socket, noting which targets of the current round answered.
    void receive();
    bool answered(uint16_t node) const;
    bool probed(uint16_t node) const { return seq_of_.count(node) != 0; }

private:
    io::Fd fd_;
    uint16_t id_ = 0;
    uint16_t seq_ = 0;
    std::map<uint16_t, uint16_t> seq_of_;   // node -> sequence number sent this round
    std::map<uint16_t, bool> answered_;     // node -> answered this round
};

}  // namespace dlba::dlbad
