// The table-sync wire format: how a standby scheduler gets the active's bucket->node map. Versioned and packed
// (big-endian), validated completely before anything is applied.
//
//   header (40 bytes): magic "DLBS" | format u16 = 1 | kind u8 | reserved u8 | table_size u32 |
//                      fingerprint u64 | from_version u64 | to_version u64 | count u32
//   kind 0 up_to_date: no body (the standby already has to_version)
//   kind 1 delta:      count x { change kind u8 | bucket u32 | node u16 } = the active's journal after from_version
//   kind 2 full:       count x { node u16 | run u32 }: run-length encoded map; the runs add up to table_size
//
// The fingerprint covers the hash, its seed and the table size: two schedulers that would hash a client to
// different buckets refuse to sync rather than mix up their tables.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bucket_table.hpp"
#include "config/scheduler_section.hpp"

namespace dlba::sync {

constexpr uint32_t kMagic = 0x444c4253;  // "DLBS"
constexpr uint16_t kFormat = 1;
constexpr size_t kHeaderSize = 40;

enum class Kind : uint8_t { up_to_date = 0, delta = 1, full = 2 };

struct Message {
    Kind kind = Kind::up_to_date;
    uint32_t table_size = 0;
    uint64_t fingerprint = 0;
    uint64_t from_version = 0;
    uint64_t to_version = 0;
    std::vector<Change> changes;  // delta
    std::vector<uint16_t> nodes;  // full: one entry per bucket
};

uint64_t fingerprint(const SchedulerConfig& config);

std::string encode(const Message& m);
// Refuses anything malformed: wrong magic or format, unknown kind, counts that do not match the length, buckets
// out of range, node numbers that are neither 1..255 nor unassigned, runs that do not add up to the table size.
// A table larger than `max_table_size` is refused before anything is expanded: a standby passes its own size, so
// a 46-byte full copy cannot make it build a map of 64 Mi buckets only to find the table is not its own.
std::optional<Message> decode(std::string_view bytes, std::string* err, uint32_t max_table_size = kMaxTableSize);
// The body length the header announces, so a reader knows how much more to read.
std::optional<size_t> body_length(std::string_view header, std::string* err);

// What the active answers to a standby at version `from`.
Message answer(const BucketTable& table, uint64_t fingerprint, uint64_t from);

}  // namespace dlba::sync
