#include "heartbeat.hpp"

#include "bucket_table.hpp"
#include "packet.hpp"

namespace dlba::hb {

namespace {
constexpr uint32_t kMagic = 0x444c4248;  // "DLBH"
constexpr uint16_t kFormat = 1;
void put64(uint8_t* p, uint64_t v) {
    pkt::store32(p, static_cast<uint32_t>(v >> 32));
    pkt::store32(p + 4, static_cast<uint32_t>(v));
}
uint64_t get64(const uint8_t* p) { return static_cast<uint64_t>(pkt::load32(p)) << 32 | pkt::load32(p + 4); }
}  // namespace

std::array<uint8_t, kSize> encode(const Message& m) {
    std::array<uint8_t, kSize> b{};
    pkt::store32(b.data(), kMagic);
    pkt::store16(b.data() + 4, kFormat);
    pkt::store16(b.data() + 6, m.beat.node);
    put64(b.data() + 8, m.beat.term);
    put64(b.data() + 16, m.table_version);
    put64(b.data() + 24, m.config_id);
    b[32] = static_cast<uint8_t>((m.beat.active ? 1 : 0) | (m.beat.dataplane_ok ? 2 : 0) | (m.beat.yielded ? 4 : 0));
    return b;
}

std::optional<Message> decode(const uint8_t* d, size_t len) {
    if (len != kSize || pkt::load32(d) != kMagic || pkt::load16(d + 4) != kFormat) return std::nullopt;
    Message m;
    m.beat.node = pkt::load16(d + 6);
    if (m.beat.node < 1 || m.beat.node > kMaxNodeNumber || (d[32] & ~7u) != 0) return std::nullopt;
    for (size_t i = 33; i < kSize; ++i) {
        if (d[i] != 0) return std::nullopt;
    }
    m.beat.term = get64(d + 8);
    m.table_version = get64(d + 16);
    m.config_id = get64(d + 24);
    m.beat.active = d[32] & 1;
    m.beat.dataplane_ok = d[32] & 2;
    m.beat.yielded = d[32] & 4;
    return m;
}

}  // namespace dlba::hb
