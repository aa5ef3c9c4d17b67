// Backup chains (config/backup_chain.hpp): the loader's check (cycles, depth) and the request path's walk.
#include <catch2/catch.hpp>

#include <set>
#include <vector>

#include "config/backup_chain.hpp"

using namespace dlba;

namespace {

BackupLink to(size_t k) { return {k, false}; }
BackupLink url() { return {std::nullopt, true}; }
BackupLink none() { return {}; }

// A chain 0 -> 1 -> ... -> n-1 (the last has no backup, or a URL).
std::vector<BackupLink> straight(size_t n, bool ends_in_url) {
    std::vector<BackupLink> l;
    for (size_t i = 0; i + 1 < n; ++i) l.push_back(to(i + 1));
    l.push_back(ends_in_url ? url() : none());
    return l;
}

}  // namespace

TEST_CASE("a chain follows out-of-service back ends to the first one in service, or to a URL", "[config][backup]") {
    // 0 -> 1 -> 2 -> url; 3 has none.
    const std::vector<BackupLink> l{to(1), to(2), url(), none()};
    std::set<size_t> down;
    auto oos = [&](size_t k) { return down.count(k) > 0; };
    down = {0};
    BackupTarget t = follow_backup(l, 0, oos);
    CHECK(t.backend == std::optional<size_t>(1));
    CHECK_FALSE(t.url_of);
    down = {0, 1};
    t = follow_backup(l, 0, oos);
    CHECK(t.backend == std::optional<size_t>(2));
    down = {0, 1, 2};
    t = follow_backup(l, 0, oos);
    CHECK_FALSE(t.backend);
    CHECK(t.url_of == std::optional<size_t>(2));  // 2's backup_url, whatever 2's own state
    CHECK(follow_backup(l, 2, oos).url_of == std::optional<size_t>(2));
    CHECK_FALSE(follow_backup(l, 3, oos).found());  // no backup at all
    // The end of the chain is out of service and has no backup of its own: nothing.
    const std::vector<BackupLink> dead_end{to(1), none()};
    down = {0, 1};
    CHECK_FALSE(follow_backup(dead_end, 0, oos).found());
    // Another service's back end (any index) may be the backup.
    const std::vector<BackupLink> across{to(3), none(), none(), none()};
    down = {0};
    CHECK(follow_backup(across, 0, oos).backend == std::optional<size_t>(3));
}

TEST_CASE("chains up to 8 hops pass, 9 are refused as too deep", "[config][backup]") {
    CHECK(check_backup_chains(straight(9, false)).problem == ChainProblem::none);  // 8 hops
    CHECK(check_backup_chains(straight(8, true)).problem == ChainProblem::none);   // 7 + the URL
    const ChainCheck deep = check_backup_chains(straight(10, false));
    CHECK(deep.problem == ChainProblem::too_deep);
    CHECK(deep.at == 0);
    const ChainCheck deep_url = check_backup_chains(straight(9, true));  // 8 + the URL
    CHECK(deep_url.problem == ChainProblem::too_deep);
    CHECK(deep_url.at == 0);
    // The walk stops at the depth too, even on a table the loader would refuse.
    std::vector<BackupLink> l = straight(12, false);
    CHECK_FALSE(follow_backup(l, 0, [](size_t k) { return k < 11; }).found());
    CHECK(follow_backup(l, 3, [](size_t k) { return k < 11; }).backend == std::optional<size_t>(11));  // 8 hops
}

TEST_CASE("cycles are refused, naming the first back end on one", "[config][backup]") {
    const ChainCheck self = check_backup_chains(std::vector<BackupLink>{none(), to(1)});
    CHECK(self.problem == ChainProblem::cycle);
    CHECK(self.at == 1);
    const ChainCheck pair = check_backup_chains(std::vector<BackupLink>{to(1), to(0)});
    CHECK(pair.problem == ChainProblem::cycle);
    CHECK(pair.at == 0);
    // 0 leads into the cycle 1 -> 2 -> 1 without being on it: the cycle is reported, at 1.
    const ChainCheck tail = check_backup_chains(std::vector<BackupLink>{to(1), to(2), to(1)});
    CHECK(tail.problem == ChainProblem::cycle);
    CHECK(tail.at == 1);
    // A long cycle is a cycle, not "too deep".
    std::vector<BackupLink> ring;
    for (size_t i = 0; i < 20; ++i) ring.push_back(to((i + 1) % 20));
    CHECK(check_backup_chains(ring).problem == ChainProblem::cycle);
    // Sharing a backup is no cycle.
    CHECK(check_backup_chains(std::vector<BackupLink>{to(2), to(2), url()}).problem == ChainProblem::none);
    // A walk over a cycle stops (the loader refuses these; the walk must still end).
    CHECK_FALSE(follow_backup(std::vector<BackupLink>{to(1), to(0)}, 0, [](size_t) { return true; }).found());
}
