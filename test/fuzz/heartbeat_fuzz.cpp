// Fuzzes the heartbeat decoder (common/heartbeat.*), which reads every UDP datagram arriving on a node's failover
// port. Invariants: only a well-formed 40-byte datagram decodes; what decodes names a node 1..255 and re-encodes
// to exactly the same bytes (the format has no slack: one datagram, one meaning); encode(decode(x)) decodes back
// to the same message; the load is 0..100 or "not known"; the same bytes under another format version are
// refused as such.
#include <cstdint>
#include <cstring>

#include "bucket_table.hpp"
#include "fuzz_check.hpp"
#include "heartbeat.hpp"

using namespace dlba;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto m = hb::decode(data, size);
    if (!m) return 0;
    FUZZ_CHECK(size == hb::kSize);
    FUZZ_CHECK(m->beat.node >= 1 && m->beat.node <= kMaxNodeNumber);
    const auto bytes = hb::encode(*m);
    FUZZ_CHECK(std::memcmp(bytes.data(), data, hb::kSize) == 0);
    const auto again = hb::decode(bytes.data(), bytes.size());
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->beat.node == m->beat.node && again->beat.term == m->beat.term);
    FUZZ_CHECK(again->beat.active == m->beat.active && again->beat.dataplane_ok == m->beat.dataplane_ok);
    FUZZ_CHECK(again->beat.yielded == m->beat.yielded);
    FUZZ_CHECK(again->table_version == m->table_version && again->config_id == m->config_id);
    FUZZ_CHECK(m->load_pct <= 100 || m->load_pct == hb::kLoadUnknown);
    FUZZ_CHECK(again->load_pct == m->load_pct);
    FUZZ_CHECK(m->load_pct == data[33]);
    // Another format version is refused with that reason, never read (an older or newer daemon's datagram).
    hb::Refusal why = hb::Refusal::none;
    uint8_t other[hb::kSize];
    std::memcpy(other, data, hb::kSize);
    other[5] ^= 1;  // format 2 -> 3
    FUZZ_CHECK(!hb::decode(other, hb::kSize, &why).has_value() && why == hb::Refusal::format);
    // Any shorter prefix of a good datagram is refused.
    FUZZ_CHECK(!hb::decode(data, size - 1).has_value());
    return 0;
}
