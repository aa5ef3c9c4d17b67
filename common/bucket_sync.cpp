#include "bucket_sync.hpp"

#include "wire.hpp"

namespace dlba::sync {

namespace {

using wire::append16;
using wire::append32;
using wire::append64;
using wire::load16;
using wire::load32;
using wire::load64;

constexpr size_t kDeltaEntry = 7;
constexpr size_t kRunEntry = 6;

bool valid_node(uint16_t n) { return n == kUnassigned || (n >= 1 && n <= kMaxNodeNumber); }

}  // namespace

uint64_t fingerprint(const SchedulerConfig& c) {
    uint64_t x = c.hash == HashKind::mix ? c.hash_seed : 0;
    x ^= static_cast<uint64_t>(c.hash) << 56 ^ static_cast<uint64_t>(c.table_size) << 8;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

std::string encode(const Message& m) {
    std::string out;
    std::vector<std::pair<uint16_t, uint32_t>> runs;
    if (m.kind == Kind::full) {
        for (uint16_t n : m.nodes) {
            if (!runs.empty() && runs.back().first == n) {
                ++runs.back().second;
            } else {
                runs.push_back({n, 1});
            }
        }
    }
    const uint32_t count = static_cast<uint32_t>(m.kind == Kind::delta ? m.changes.size() : runs.size());
    out.reserve(kHeaderSize + count * kDeltaEntry);
    append32(out, kMagic);
    append16(out, kFormat);
    out.push_back(static_cast<char>(m.kind));
    out.push_back(0);
    append32(out, m.table_size);
    append64(out, m.fingerprint);
    append64(out, m.from_version);
    append64(out, m.to_version);
    append32(out, count);
    if (m.kind == Kind::delta) {
        for (const Change& c : m.changes) {
            out.push_back(static_cast<char>(c.kind));
            append32(out, c.bucket);
            append16(out, c.node);
        }
    } else if (m.kind == Kind::full) {
        for (const auto& [node, run] : runs) {
            append16(out, node);
            append32(out, run);
        }
    }
    return out;
}

std::optional<size_t> body_length(std::string_view header, std::string* err) {
    if (header.size() < kHeaderSize) {
        *err = "short header";
        return std::nullopt;
    }
    const auto* p = reinterpret_cast<const uint8_t*>(header.data());
    if (load32(p) != kMagic) {
        *err = "bad magic";
        return std::nullopt;
    }
    if (load16(p + 4) != kFormat) {
        *err = "unsupported format " + std::to_string(load16(p + 4));
        return std::nullopt;
    }
    const uint8_t kind = p[6];
    const uint64_t count = load32(p + 36);
    if (kind == static_cast<uint8_t>(Kind::up_to_date)) return count == 0 ? std::optional<size_t>(0) : std::nullopt;
    if (kind == static_cast<uint8_t>(Kind::delta)) return count * kDeltaEntry;
    if (kind == static_cast<uint8_t>(Kind::full)) return count * kRunEntry;
    *err = "unknown kind " + std::to_string(kind);
    return std::nullopt;
}

std::optional<Message> decode(std::string_view bytes, std::string* err, uint32_t max_table_size) {
    const auto body = body_length(bytes, err);
    if (!body) {
        if (err->empty()) *err = "inconsistent header";
        return std::nullopt;
    }
    if (bytes.size() != kHeaderSize + *body) {
        *err = "length " + std::to_string(bytes.size()) + " does not match the header's " +
               std::to_string(kHeaderSize + *body);
        return std::nullopt;
    }
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    Message m;
    m.kind = static_cast<Kind>(p[6]);
    m.table_size = load32(p + 8);
    m.fingerprint = load64(p + 12);
    m.from_version = load64(p + 20);
    m.to_version = load64(p + 28);
    const uint32_t count = load32(p + 36);
    if (m.table_size < kMinTableSize || m.table_size > kMaxTableSize) {
        *err = "table size " + std::to_string(m.table_size) + " out of range";
        return std::nullopt;
    }
    if (m.table_size > max_table_size) {
        *err = "table size " + std::to_string(m.table_size) + " is larger than ours (" +
               std::to_string(max_table_size) + ")";
        return std::nullopt;
    }
    if (m.to_version < m.from_version) {
        *err = "versions go backwards";
        return std::nullopt;
    }
    const uint8_t* q = p + kHeaderSize;
    if (m.kind == Kind::delta) {
        if (m.to_version - m.from_version != count) {
            *err = "a delta must hold one change per version";
            return std::nullopt;
        }
        m.changes.reserve(count);
        for (uint32_t i = 0; i < count; ++i, q += kDeltaEntry) {
            const Change c{static_cast<ChangeKind>(q[0]), load32(q + 1), load16(q + 5)};
            const bool kind_ok = c.kind == ChangeKind::set_bucket || c.kind == ChangeKind::free_node;
            if (!kind_ok || !valid_node(c.node) || (c.kind == ChangeKind::set_bucket && c.bucket >= m.table_size) ||
                (c.kind == ChangeKind::free_node && c.node == kUnassigned)) {
                *err = "bad change #" + std::to_string(i);
                return std::nullopt;
            }
            m.changes.push_back(c);
        }
    } else if (m.kind == Kind::full) {
        m.nodes.reserve(m.table_size);
        uint64_t total = 0;
        for (uint32_t i = 0; i < count; ++i, q += kRunEntry) {
            const uint16_t node = load16(q);
            const uint32_t run = load32(q + 2);
            total += run;
            if (!valid_node(node) || run == 0 || total > m.table_size) {
                *err = "bad run #" + std::to_string(i);
                return std::nullopt;
            }
            m.nodes.insert(m.nodes.end(), run, node);
        }
        if (total != m.table_size) {
            *err = "runs cover " + std::to_string(total) + " of " + std::to_string(m.table_size) + " buckets";
            return std::nullopt;
        }
    }
    return m;
}

Message answer(const BucketTable& table, uint64_t fp, uint64_t from) {
    Message m;
    m.table_size = table.size();
    m.fingerprint = fp;
    m.from_version = from;
    uint64_t to = 0;
    if (table.changes_since(from, m.changes, to)) {
        m.to_version = to;
        m.kind = m.changes.empty() ? Kind::up_to_date : Kind::delta;
        return m;
    }
    m.changes.clear();
    m.kind = Kind::full;
    m.from_version = 0;
    m.to_version = table.snapshot(m.nodes);
    return m;
}

}  // namespace dlba::sync
