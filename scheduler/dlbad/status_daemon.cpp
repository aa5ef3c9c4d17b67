#include "status_daemon.hpp"

#include "io/table_format.hpp"
#include "io/envelope_stream.hpp"
#include "io/tcp.hpp"
#include "protocol/node_status.hpp"

namespace dlba::dlbad {

namespace {
constexpr int kAnswerDeadlineMs = 1000;
constexpr size_t kMaxRequestBytes = 256;
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

StatusDaemon::StatusDaemon(const ArrayConfig& config, const NodeConfig& self, const TimeSource& time, PeerAuth& auth)
    : config_(config), self_(self), time_(time), auth_(auth), service_(kAnswerDeadlineMs) {}

bool StatusDaemon::open(std::string* err) { return service_.open(self_.eth0_ip, config_.failover.status_port, err); }

void StatusDaemon::start() {
    service_.start([this](int fd) -> std::string {
        // Only a signed request from a node's address is answered (common/auth); the answer is bound to it.
        auth::PeerGuard& guard = auth_.status_requests;
        std::string sealed;
        const auto request = io::read_sealed_request(fd, guard, auth::Kind::sweep_request, kMaxRequestBytes,
                                                     io::deadline_in(kAnswerDeadlineMs), false, "a sweep request",
                                                     &sealed);
        if (!request) return "";
        // Healthy when something accepts on the VIP's first port; an unhealthy node answers nothing inside the
        // seal (to the sweep the same as a dead one).
        const uint16_t port = config_.tcp_ports.empty() ? kDefaultPort : config_.tcp_ports.front();
        const bool vip_accepts = io::tcp_probe(config_.vip, port, kVipProbeTimeoutMs);
        return auth_.signer.answer(auth::Kind::sweep_answer,
                                   prototype_status_answer(self_.number, time_.unix_s(), vip_accepts),
                                   request->header);
    });
}

}  // namespace dlba::dlbad
