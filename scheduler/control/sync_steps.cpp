#include "control/sync_steps.hpp"

#include <variant>

#include "protocol/reply.hpp"
#include "protocol/request.hpp"

namespace dlba::sync {

std::string answer_pull(std::string_view request_line, const BucketTable& table, uint64_t fingerprint) {
    const proto::Parsed parsed = proto::parse(request_line, proto::Daemon::sync_port);
    const auto* pull = std::get_if<proto::Request>(&parsed);
    if (!pull) return proto::error_line("bad request");
    if (pull->fingerprint != fingerprint) {
        return proto::error_line(
            "fingerprint mismatch: the two nodes hash differently (check scheduler.hash, hash_seed, table_size)");
    }
    return encode(answer(table, fingerprint, pull->version));
}

Verdict judge(const Message& m, uint64_t fingerprint, uint32_t table_size) {
    if (m.fingerprint != fingerprint || m.table_size != table_size) return Verdict::foreign;
    return m.kind == Kind::up_to_date ? Verdict::up_to_date : Verdict::to_apply;
}

Applied apply(BucketTable& table, const Message& m, uint32_t now) {
    if (!table.mirror()) return Applied::not_a_mirror;
    if (m.kind == Kind::full) {
        table.load_snapshot(m.nodes, m.to_version, now);
        return Applied::applied;
    }
    if (m.from_version != table.version()) return Applied::version_gap;
    uint64_t version = m.from_version;
    for (const Change& change : m.changes) table.apply(change, ++version, now);
    return Applied::applied;
}

}  // namespace dlba::sync
