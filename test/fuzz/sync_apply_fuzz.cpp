// Fuzzes what a standby does with the DLBS messages it receives (common/bucket_sync.* decode, then
// scheduler/control/sync_steps.* judge and apply to a mirror BucketTable), and what the active answers from the
// table that results (sync::answer_pull, the real PULL path) to a second standby following it.
//
// Input: one flag byte, then messages, each a big-endian u16 length and that many bytes.
//   flags bit 0: the table is a mirror (otherwise every apply must refuse: not_a_mirror)
//   flags bits 1-2: the table's journal size (4, 16, 256, 4096), so deltas outrun it and force full copies
// Invariants, after every message:
//   - a message for another fingerprint or table size is judged foreign; an up-to-date one changes nothing;
//   - apply does exactly what a plain model of the map says (a full copy replaces the map; a delta from the
//     table's version sets or frees buckets in order; a delta from another version is a version_gap and changes
//     nothing), and leaves the table at the message's to_version;
//   - the per-node bucket counters and unassigned_buckets() agree with the map;
//   - a second mirror that pulls from this table (PULL line -> answer_pull -> decode -> judge -> apply) ends up
//     with exactly the same map and version.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "bucket_sync.hpp"
#include "bucket_table.hpp"
#include "control/sync_steps.hpp"
#include "fuzz_check.hpp"

using namespace dlba;

namespace {

constexpr uint32_t kSize = kMinTableSize;
constexpr uint64_t kFingerprint = 0x0123456789abcdefULL;  // what the seeds carry
constexpr uint32_t kNow = 1000;

std::vector<uint16_t> owners(const BucketTable& t) {
    std::vector<uint16_t> out(t.size());
    for (uint32_t i = 0; i < t.size(); ++i) out[i] = t.owner(i);
    return out;
}

void check_counts(const BucketTable& t, const std::vector<uint16_t>& map) {
    std::vector<uint64_t> count(kMaxNodeNumber + 1, 0);
    uint64_t unassigned = 0;
    for (uint16_t n : map) {
        if (n == kUnassigned) {
            ++unassigned;
        } else {
            FUZZ_CHECK(n >= 1 && n <= kMaxNodeNumber);
            ++count[n];
        }
    }
    for (uint16_t n = 1; n <= kMaxNodeNumber; ++n) FUZZ_CHECK(t.node(n).buckets.get() == count[n]);
    FUZZ_CHECK(t.unassigned_buckets() == unassigned);
}

// The follower pulls from `source` as a standby's TableSync does; `force_full` asks from a version the journal
// cannot reach (a version after the source's), as a standby does whose table was replaced under it.
void follow(const BucketTable& source, BucketTable& follower, bool force_full) {
    const uint64_t from = force_full ? ~uint64_t{0} : follower.version();
    char line[64];
    std::snprintf(line, sizeof line, "PULL %llx %llu", static_cast<unsigned long long>(kFingerprint),
                  static_cast<unsigned long long>(from));
    const std::string answer = sync::answer_pull(line, source, kFingerprint);
    std::string err;
    const auto m = sync::decode(answer, &err);
    if (!m) std::fprintf(stderr, "answer to '%s' does not decode: %s\n", line, err.c_str());
    FUZZ_CHECK(m.has_value());
    const sync::Verdict verdict = sync::judge(*m, kFingerprint, kSize);
    FUZZ_CHECK(verdict != sync::Verdict::foreign);
    if (verdict == sync::Verdict::to_apply) FUZZ_CHECK(sync::apply(follower, *m, kNow) == sync::Applied::applied);
    FUZZ_CHECK(follower.version() == source.version());
    FUZZ_CHECK(owners(follower) == owners(source));
}

// Back to the state of a new table: every bucket unassigned, version 0, journal empty, no node counted.
void empty(BucketTable& t, bool mirror) {
    t.set_mirror(true, kNow);
    t.load_snapshot(std::vector<uint16_t>(t.size(), kUnassigned), 0, kNow);
    t.set_mirror(mirror, kNow);
    FUZZ_CHECK(t.version() == 0 && t.unassigned_buckets() == t.size() && t.mirror() == mirror);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const bool mirror = data[0] & 1;
    // The tables are made once (each allocates a 2 MiB-aligned map) and emptied for every input.
    static BucketTable* const kTables[] = {new BucketTable(kSize, 60, 4), new BucketTable(kSize, 60, 16),
                                           new BucketTable(kSize, 60, 256), new BucketTable(kSize, 60, 4096)};
    static BucketTable follower_table(kSize, 60, 16);
    BucketTable& table = *kTables[(data[0] >> 1) & 3];
    BucketTable& follower = follower_table;
    empty(table, mirror);
    empty(follower, true);
    std::vector<uint16_t> model(kSize, kUnassigned);

    size_t at = 1;
    while (at + 2 <= size) {
        const size_t len = std::min<size_t>(size - at - 2, static_cast<size_t>(data[at]) << 8 | data[at + 1]);
        const std::string_view bytes(reinterpret_cast<const char*>(data + at + 2), len);
        at += 2 + len;
        std::string err;
        const auto m = sync::decode(bytes, &err, kSize);  // as table_sync reads: nothing larger than our table
        if (!m) continue;
        const uint64_t version_before = table.version();
        const sync::Verdict verdict = sync::judge(*m, kFingerprint, kSize);
        if (verdict == sync::Verdict::foreign) {
            FUZZ_CHECK(m->fingerprint != kFingerprint || m->table_size != kSize);
            continue;
        }
        FUZZ_CHECK(m->fingerprint == kFingerprint && m->table_size == kSize);
        if (verdict == sync::Verdict::up_to_date) {
            FUZZ_CHECK(m->kind == sync::Kind::up_to_date);
            continue;
        }
        const sync::Applied applied = sync::apply(table, *m, kNow);
        bool replaced = false;
        if (!mirror) {
            FUZZ_CHECK(applied == sync::Applied::not_a_mirror);
        } else if (m->kind == sync::Kind::full) {
            FUZZ_CHECK(applied == sync::Applied::applied);
            model = m->nodes;
            replaced = true;
        } else if (m->from_version != version_before) {
            FUZZ_CHECK(applied == sync::Applied::version_gap);
        } else {
            FUZZ_CHECK(applied == sync::Applied::applied);
            for (const Change& c : m->changes) {
                if (c.kind == ChangeKind::set_bucket) {
                    model[c.bucket] = c.node;
                } else {
                    for (uint16_t& n : model) n = n == c.node ? kUnassigned : n;
                }
            }
        }
        FUZZ_CHECK(table.version() == (applied == sync::Applied::applied ? m->to_version : version_before));
        FUZZ_CHECK(owners(table) == model);
        check_counts(table, model);
        follow(table, follower, replaced);
        check_counts(follower, model);
    }
    return 0;
}
