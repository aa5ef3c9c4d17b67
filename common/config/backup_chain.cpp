#include "config/backup_chain.hpp"

namespace dlba {

ChainCheck check_backup_chains(std::span<const BackupLink> links, size_t max_depth) {
    const size_t n = links.size();
    auto next = [&](size_t at) -> std::optional<size_t> {
        if (links[at].url || !links[at].backend || *links[at].backend >= n) return std::nullopt;
        return links[at].backend;
    };
    // A back end whose chain comes back to it is in a cycle; the first such back end is named.
    for (size_t start = 0; start < n; ++start) {
        size_t at = start;
        for (size_t hop = 0; hop < n; ++hop) {
            const std::optional<size_t> to = next(at);
            if (!to) break;
            if (*to == start) return {ChainProblem::cycle, start};
            at = *to;
        }
    }
    // No cycle: every chain ends within n hops. A backup_url is one hop more.
    for (size_t start = 0; start < n; ++start) {
        size_t at = start;
        size_t hops = 0;
        while (const std::optional<size_t> to = next(at)) {
            at = *to;
            ++hops;
        }
        if (links[at].url) ++hops;
        if (hops > max_depth) return {ChainProblem::too_deep, start};
    }
    return {};
}

}  // namespace dlba
