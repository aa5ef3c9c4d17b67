// Fuzzes the heartbeat decoder (common/heartbeat.*), which reads every UDP datagram arriving on a node's failover
// port. Invariants: only a well-formed 40-byte datagram decodes; what decodes names a node 1..255 and re-encodes
// to exactly the same bytes (the format has no slack: one datagram, one meaning); encode(decode(x)) decodes back
// to the same message.
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
    // Any shorter prefix of a good datagram is refused.
    FUZZ_CHECK(!hb::decode(data, size - 1).has_value());
    return 0;
}
