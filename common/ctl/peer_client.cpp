#include "ctl/peer_client.hpp"

#include "config/peer_settings.hpp"
#include "io/envelope_stream.hpp"
#include "io/tcp.hpp"

namespace dlba::ctl {

namespace {
constexpr size_t kMaxReplyBytes = 64u << 20;
}

PeerClient::PeerClient(const ArrayConfig& config)
    : signer_(config.failover.ring(), auth::kOperator), guard_("dlbactl", peer_guard_settings(config)) {}

std::optional<std::string> PeerClient::exchange(uint32_t ip, uint16_t node, uint16_t port, const std::string& request,
                                                int timeout_ms, std::string* err) {
    const io::Deadline deadline = io::deadline_in(timeout_ms);
    io::Fd fd = io::tcp_connect(ip, port, deadline, err);
    if (!fd) return std::nullopt;
    uint64_t nonce = 0;
    if (!io::write_all(fd.get(), signer_.request(auth::Kind::config_request, request, &nonce), deadline)) {
        *err = "send failed";
        return std::nullopt;
    }
    std::string sealed;
    const io::EnvelopeRead read = io::read_envelope(fd.get(), kMaxReplyBytes, deadline, &sealed);
    if (read == io::EnvelopeRead::short_read) {
        *err = "no reply in time (a node closes unanswered a request that does not authenticate: are this file's "
               "failover.peer_keys the array's?)";
        return std::nullopt;
    }
    if (read != io::EnvelopeRead::ok) {
        *err = "the reply is not signed";
        return std::nullopt;
    }
    const auto answer = guard_.answer(sealed, auth::Kind::config_answer, node, nonce, ip, auth::unix_us());
    if (!answer) {
        *err = std::string("the reply does not authenticate (") + auth::drop_name(*guard_.last_verdict()) + ")";
        return std::nullopt;
    }
    std::string reply(answer->payload);
    if (!reply.empty() && reply.back() == '\n') reply.pop_back();
    return reply;
}

}  // namespace dlba::ctl
