#include "heartbeat.hpp"

#include "bucket_table.hpp"
#include "wire.hpp"

namespace dlba::hb {

namespace {
constexpr uint32_t kMagic = 0x444c4248;  // "DLBH"

std::optional<Message> refuse(Refusal r, Refusal* why) {
    if (why) *why = r;
    return std::nullopt;
}
}  // namespace

const char* refusal_name(Refusal r) {
    switch (r) {
        case Refusal::none: return "none";
        case Refusal::size: return "wrong size";
        case Refusal::magic: return "not a heartbeat";
        case Refusal::format: return "another heartbeat format";
        case Refusal::malformed: return "malformed";
    }
    return "?";
}

std::array<uint8_t, kSize> encode(const Message& m) {
    std::array<uint8_t, kSize> b{};
    wire::store32(b.data(), kMagic);
    wire::store16(b.data() + 4, kFormat);
    wire::store16(b.data() + 6, m.beat.node);
    wire::store64(b.data() + 8, m.beat.term);
    wire::store64(b.data() + 16, m.table_version);
    wire::store64(b.data() + 24, m.config_id);
    b[32] = static_cast<uint8_t>((m.beat.active ? 1 : 0) | (m.beat.dataplane_ok ? 2 : 0) | (m.beat.yielded ? 4 : 0));
    b[33] = m.load_pct <= 100 ? m.load_pct : kLoadUnknown;
    return b;
}

std::optional<Message> decode(const uint8_t* d, size_t len, Refusal* why) {
    if (len != kSize) return refuse(Refusal::size, why);
    if (wire::load32(d) != kMagic) return refuse(Refusal::magic, why);
    if (wire::load16(d + 4) != kFormat) return refuse(Refusal::format, why);
    Message m;
    m.beat.node = wire::load16(d + 6);
    if (m.beat.node < 1 || m.beat.node > kMaxNodeNumber || (d[32] & ~7u) != 0) return refuse(Refusal::malformed, why);
    if (d[33] > 100 && d[33] != kLoadUnknown) return refuse(Refusal::malformed, why);
    for (size_t i = 34; i < kSize; ++i) {
        if (d[i] != 0) return refuse(Refusal::malformed, why);
    }
    if (why) *why = Refusal::none;
    m.load_pct = d[33];
    m.beat.term = wire::load64(d + 8);
    m.table_version = wire::load64(d + 16);
    m.config_id = wire::load64(d + 24);
    m.beat.active = d[32] & 1;
    m.beat.dataplane_ok = d[32] & 2;
    m.beat.yielded = d[32] & 4;
    return m;
}

}  // namespace dlba::hb
