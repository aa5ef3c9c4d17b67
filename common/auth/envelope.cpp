#include "auth/envelope.hpp"

#include "wire.hpp"

namespace dlba::auth {

namespace {

const uint8_t* bytes_of(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

bool known_kind(uint8_t k) { return k >= static_cast<uint8_t>(Kind::heartbeat) && k <= static_cast<uint8_t>(Kind::config_answer); }

}  // namespace

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::heartbeat: return "heartbeat";
        case Kind::sync_request: return "sync request";
        case Kind::sync_answer: return "sync answer";
        case Kind::sweep_request: return "sweep request";
        case Kind::sweep_answer: return "sweep answer";
        case Kind::config_request: return "config request";
        case Kind::config_answer: return "config answer";
    }
    return "?";
}

std::string seal(const Header& h, std::string_view payload, const PeerKey& key) {
    std::string out(kHeaderBytes, '\0');
    uint8_t* b = reinterpret_cast<uint8_t*>(out.data());
    wire::store32(b, kMagic);
    b[4] = kFormat;
    b[5] = static_cast<uint8_t>(h.kind);
    wire::store16(b + 6, h.sender);
    wire::store64(b + 8, h.counter);
    wire::store64(b + 16, h.nonce);
    wire::store32(b + 24, static_cast<uint32_t>(payload.size()));
    out.append(payload);
    Tag tag{};
    if (!hmac_sha256(key, {std::string_view(out)}, &tag)) tag.fill(0);  // verifies nowhere: dropped as bad_mac
    out.append(reinterpret_cast<const char*>(tag.data()), tag.size());
    return out;
}

std::optional<uint32_t> payload_length(std::string_view header) {
    if (header.size() < kHeaderBytes) return std::nullopt;
    const uint8_t* b = bytes_of(header);
    if (wire::load32(b) != kMagic || b[4] != kFormat || !known_kind(b[5]) || wire::load32(b + 28) != 0) {
        return std::nullopt;
    }
    return wire::load32(b + 24);
}

std::optional<Opened> open(std::string_view bytes) {
    const auto length = payload_length(bytes);
    if (!length || bytes.size() < kOverheadBytes || bytes.size() - kOverheadBytes != *length) return std::nullopt;
    const uint8_t* b = bytes_of(bytes);
    Opened e;
    e.header.kind = static_cast<Kind>(b[5]);
    e.header.sender = wire::load16(b + 6);
    e.header.counter = wire::load64(b + 8);
    e.header.nonce = wire::load64(b + 16);
    e.payload = bytes.substr(kHeaderBytes, *length);
    e.signed_bytes = bytes.substr(0, kHeaderBytes + *length);
    e.tag = bytes.substr(kHeaderBytes + *length);
    return e;
}

bool verify(const Opened& e, const KeyRing& ring) {
    bool ok = false;
    for (const PeerKey& k : ring.all()) {
        Tag t{};
        const bool computed = hmac_sha256(k, {e.signed_bytes}, &t);
        ok |= computed && tags_equal(t.data(), bytes_of(e.tag));
    }
    return ok;
}

}  // namespace dlba::auth
