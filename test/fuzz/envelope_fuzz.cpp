// Fuzzes the peer-message envelope (common/auth) as a peer port reads it: the stream header, the structural
// decoder, the tag check over a two-key ring, and the guard that applies address, sender, kind and replay rules.
// Invariants: open() never reads past the input and what it returns tiles the input exactly; nothing verifies
// unless it was sealed with a ring key (re-sealing the opened header and payload with the key reproduces the input
// byte for byte); a message the guard takes once is refused the second time.
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/envelope.hpp"
#include "auth/peer_guard.hpp"
#include "fuzz_check.hpp"

using namespace dlba::auth;

namespace {

PeerKey key_of(uint8_t seed) {
    PeerKey k;
    for (size_t i = 0; i < k.bytes.size(); ++i) k.bytes[i] = static_cast<uint8_t>(seed + i * 7);
    return k;
}

const PeerKey kSigning = key_of(1);  // test/fuzz/make_envelope_corpus.py seals the seeds with these
const PeerKey kOld = key_of(2);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    if (const auto len = payload_length(in)) FUZZ_CHECK(in.size() >= kHeaderBytes);
    const KeyRing ring({kSigning, kOld});
    const auto e = open(in);
    if (!e) return 0;
    FUZZ_CHECK(e->signed_bytes.size() + e->tag.size() == in.size());
    FUZZ_CHECK(e->tag.size() == kTagBytes);
    FUZZ_CHECK(e->payload.size() == *payload_length(in));
    FUZZ_CHECK(e->signed_bytes.data() == in.data());
    if (verify(*e, ring)) {
        const bool by_signing = seal(e->header, e->payload, kSigning) == in;
        const bool by_old = seal(e->header, e->payload, kOld) == in;
        FUZZ_CHECK(by_signing || by_old);
    }
    // The guard at a port: node 1 at 10.0.0.1; the message as if it came from there, at the time it claims.
    GuardSettings settings{ring, {{1, 0x0a000001}}, 10'000'000};
    PeerGuard guard("fuzz", settings);
    const uint64_t now = e->header.counter;
    const auto first = guard.request(in, e->header.kind, 0x0a000001, true, now);
    if (first) {
        FUZZ_CHECK(verify(*e, ring));
        FUZZ_CHECK(!guard.request(in, e->header.kind, 0x0a000001, true, now));
        FUZZ_CHECK(guard.last_verdict() == Drop::replayed);
    }
    PeerGuard one_way("fuzz", settings);
    if (one_way.one_way(in, e->header.kind, 0x0a000001, now)) {
        FUZZ_CHECK(!one_way.one_way(in, e->header.kind, 0x0a000001, now));
    }
    return 0;
}
