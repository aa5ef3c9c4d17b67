// Backup chains (seed 002's `backup` command): a back end out of service hands its requests to its backup, a back
// end (`backup = "KEY"`, of any service) or a URL (`backup_url`); a backup that is out of service hands them on to
// its own, at most kMaxBackupDepth hops. Pure: the loader checks every chain once (no cycle, not too deep) and the
// request path follows one with a caller-supplied test of "out of service", without allocating.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace dlba {

inline constexpr size_t kMaxBackupDepth = 8;

// One back end's link, by index into the array's back ends.
struct BackupLink {
    std::optional<size_t> backend;  // backup = "KEY"
    bool url = false;               // backup_url (a back end has one or the other, or neither)
};

enum class ChainProblem : uint8_t { none, cycle, too_deep };

struct ChainCheck {
    ChainProblem problem = ChainProblem::none;
    size_t at = 0;  // the back end whose chain is refused (the first one found, in index order)
};

// Every chain: a cycle (A -> B -> A, or A -> A) or more than `max_depth` hops is a problem.
ChainCheck check_backup_chains(std::span<const BackupLink> links, size_t max_depth = kMaxBackupDepth);

// Where the requests of back end `start` (out of service) go.
struct BackupTarget {
    std::optional<size_t> backend;  // an in-service back end: its own URL (or its address)
    std::optional<size_t> url_of;   // the back end whose backup_url is used
    bool found() const { return backend.has_value() || url_of.has_value(); }
};

// Follows `start`'s chain to the first link that is a URL or an in-service back end; nothing when the chain ends
// on a back end that is out of service and has no backup, or is longer than `max_depth` (the loader refuses those).
template <class OutOfService>
BackupTarget follow_backup(std::span<const BackupLink> links, size_t start, OutOfService out_of_service,
                           size_t max_depth = kMaxBackupDepth) {
    size_t at = start;
    for (size_t hop = 0; hop < max_depth && at < links.size(); ++hop) {
        const BackupLink& l = links[at];
        if (l.url) return {std::nullopt, at};
        if (!l.backend) return {};
        at = *l.backend;
        if (at < links.size() && !out_of_service(at)) return {at, std::nullopt};
    }
    return {};
}

}  // namespace dlba
