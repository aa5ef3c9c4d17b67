// Fuzzes the DLBS table-sync decoder (common/bucket_sync.*), which reads what a standby receives from the active's
// sync port. Invariants: the header's announced body length agrees with decode's length check; what decodes is
// internally consistent (table size in range, versions ordered, one change per version, valid node numbers,
// buckets in range, a full copy covering exactly table_size buckets) and survives encode -> decode unchanged;
// encoding is canonical (encode(decode(encode(m))) == encode(m)).
#include <cstdint>
#include <string>
#include <string_view>

#include "bucket_sync.hpp"
#include "fuzz_check.hpp"

using namespace dlba;

namespace {

// The largest table this target expands. A standby decodes with its own table size as the limit, so the cost of a
// full copy is bounded by the table it already holds; here a small limit keeps every input cheap (a 46-byte input
// announcing 64 Mi buckets made each run expand 128 MiB), and sizes above it must be refused up front.
constexpr uint32_t kLimit = 1u << 16;

bool valid_node(uint16_t n) { return n == kUnassigned || (n >= 1 && n <= kMaxNodeNumber); }

bool same(const sync::Message& a, const sync::Message& b) {
    return a.kind == b.kind && a.table_size == b.table_size && a.fingerprint == b.fingerprint &&
           a.from_version == b.from_version && a.to_version == b.to_version && a.changes == b.changes &&
           a.nodes == b.nodes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    std::string err;
    const auto body = sync::body_length(bytes, &err);
    if (!body) FUZZ_CHECK(!err.empty() || size >= sync::kHeaderSize);
    err.clear();
    const auto m = sync::decode(bytes, &err, kLimit);
    if (!m) {
        FUZZ_CHECK(!err.empty());
        return 0;
    }
    FUZZ_CHECK(err.empty());
    FUZZ_CHECK(m->table_size <= kLimit);
    FUZZ_CHECK(body && size == sync::kHeaderSize + *body);
    FUZZ_CHECK(m->table_size >= kMinTableSize && m->table_size <= kMaxTableSize);
    FUZZ_CHECK(m->from_version <= m->to_version);
    switch (m->kind) {
        case sync::Kind::up_to_date:
            FUZZ_CHECK(m->changes.empty() && m->nodes.empty());
            break;
        case sync::Kind::delta:
            FUZZ_CHECK(m->nodes.empty());
            FUZZ_CHECK(m->to_version - m->from_version == m->changes.size());
            for (const Change& c : m->changes) {
                FUZZ_CHECK(valid_node(c.node));
                if (c.kind == ChangeKind::set_bucket) {
                    FUZZ_CHECK(c.bucket < m->table_size);
                } else {
                    FUZZ_CHECK(c.kind == ChangeKind::free_node && c.node != kUnassigned);
                }
            }
            break;
        case sync::Kind::full:
            FUZZ_CHECK(m->changes.empty());
            FUZZ_CHECK(m->nodes.size() == m->table_size);
            for (uint16_t n : m->nodes) FUZZ_CHECK(valid_node(n));
            break;
        default:
            FUZZ_CHECK(!"decode accepted an unknown kind");
    }
    const std::string encoded = sync::encode(*m);
    std::string err2;
    const auto again = sync::decode(encoded, &err2, kLimit);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(same(*m, *again));
    FUZZ_CHECK(sync::encode(*again) == encoded);
    // A delta or up-to-date message has exactly one encoding but for the reserved byte; a full copy may merge
    // adjacent runs of the same node, so it can only get shorter.
    if (m->kind == sync::Kind::full) {
        FUZZ_CHECK(encoded.size() <= size);
    } else {
        FUZZ_CHECK(encoded.size() == size);
        FUZZ_CHECK(encoded.compare(0, 7, bytes.substr(0, 7)) == 0 && encoded.compare(8, std::string::npos,
                   bytes.substr(8)) == 0);
    }
    return 0;
}
