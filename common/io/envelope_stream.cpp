#include "io/envelope_stream.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "auth/envelope.hpp"
#include "auth/signer.hpp"
#include "wire.hpp"

namespace dlba::io {

EnvelopeRead read_envelope(int fd, size_t max_payload, Deadline deadline, std::string* out) {
    out->assign(auth::kHeaderBytes, '\0');
    // The magic first: an unsigned request ("ADMIN ...\n", shorter than a header) is refused at once, not after
    // waiting for bytes that never come.
    if (!read_exact(fd, out->data(), 4, deadline)) return EnvelopeRead::short_read;
    if (wire::load32(reinterpret_cast<const uint8_t*>(out->data())) != auth::kMagic) return EnvelopeRead::not_envelope;
    if (!read_exact(fd, out->data() + 4, auth::kHeaderBytes - 4, deadline)) return EnvelopeRead::short_read;
    const auto length = auth::payload_length(*out);
    if (!length) return EnvelopeRead::not_envelope;
    if (*length > max_payload) return EnvelopeRead::too_large;
    out->resize(auth::kOverheadBytes + *length);
    if (!read_exact(fd, out->data() + auth::kHeaderBytes, *length + auth::kTagBytes, deadline)) {
        return EnvelopeRead::short_read;
    }
    return EnvelopeRead::ok;
}

uint32_t peer_ipv4(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0 || a.sin_family != AF_INET) return 0;
    return ntohl(a.sin_addr.s_addr);
}

std::optional<auth::Opened> read_sealed_request(int fd, auth::PeerGuard& guard, auth::Kind kind, size_t max_payload,
                                                Deadline deadline, bool operator_ok, const char* what,
                                                std::string* sealed) {
    const uint32_t from = peer_ipv4(fd);
    if (!guard.admit_address(from, auth::unix_us())) return std::nullopt;
    const EnvelopeRead read = read_envelope(fd, max_payload, deadline, sealed);
    if (read != EnvelopeRead::ok) {
        if (read != EnvelopeRead::short_read) guard.drop(auth::Drop::unsigned_message, from, auth::unix_us(), what);
        return std::nullopt;
    }
    return guard.request(*sealed, kind, from, operator_ok, auth::unix_us());
}

}  // namespace dlba::io
