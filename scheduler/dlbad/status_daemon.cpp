#include "status_daemon.hpp"

#include "io/table_format.hpp"
#include "io/tcp.hpp"
#include "protocol/node_status.hpp"

namespace dlba::dlbad {

namespace {
constexpr int kAnswerDeadlineMs = 1000;
constexpr int kVipProbeTimeoutMs = 300;
constexpr uint16_t kDefaultPort = 80;  // an array without tcp_ports
}  // namespace

std::string prototype_status_answer(uint16_t node, uint64_t unix_now, bool vip_accepts) {
    if (!vip_accepts) return "";
    proto::NodeStatus s;
    s.source = "dlbad";
    s.server = "prototype";
    s.node = node;
    s.time = static_cast<int64_t>(unix_now);
    return s.to_table().to_json().dump();
}

StatusDaemon::StatusDaemon(const ArrayConfig& config, const NodeConfig& self, const TimeSource& time)
    : config_(config), self_(self), time_(time), service_(kAnswerDeadlineMs) {}

bool StatusDaemon::open(std::string* err) { return service_.open(self_.eth0_ip, config_.failover.status_port, err); }

void StatusDaemon::start() {
    service_.start([this](int) {
        // Healthy when something accepts on the VIP's first port.
        const uint16_t port = config_.tcp_ports.empty() ? kDefaultPort : config_.tcp_ports.front();
        const bool vip_accepts = io::tcp_probe(config_.vip, port, kVipProbeTimeoutMs);
        return prototype_status_answer(self_.number, time_.unix_s(), vip_accepts);
    });
}

}  // namespace dlba::dlbad
