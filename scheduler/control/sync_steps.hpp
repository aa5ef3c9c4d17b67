// The table sync's steps as pure functions, so each is unit-tested without sockets or threads (TableSync is the
// thin shell that moves bytes):
//
//   active   answer_pull: a standby's "PULL <fingerprint> <version>" line -> one DLBS message, or "ERR reason"
//   standby  judge: what a decoded message from the source means here
//   standby  apply: the data plane applies a delta or a full copy to its mirror table (its single writer)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bucket_sync.hpp"
#include "bucket_table.hpp"

namespace dlba::sync {

// The whole answer the active writes back: a DLBS message (up to date, the journal after the standby's version,
// or a full copy when the journal no longer reaches back), or an ERR line for a bad request or a table that
// hashes differently.
std::string answer_pull(std::string_view request_line, const BucketTable& table, uint64_t fingerprint);

enum class Verdict : uint8_t {
    up_to_date,  // nothing to do
    to_apply,    // a delta or a full copy for the data plane
    foreign,     // for another table (fingerprint or size): refused
};
Verdict judge(const Message& message, uint64_t fingerprint, uint32_t table_size);

enum class Applied : uint8_t {
    applied,
    not_a_mirror,  // an active scheduler's table is its own
    version_gap,   // a delta from another version than the table's (raced with another change): the next pull
                   // asks again from the table's version, and gets a full copy if the journal no longer reaches
};
Applied apply(BucketTable& table, const Message& message, uint32_t now);

}  // namespace dlba::sync
