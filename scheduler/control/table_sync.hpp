// Table sync between schedulers, over TCP on the nodes' eth0 addresses, in its own thread.
//
// Server: answers "PULL <fingerprint> <from_version>\n" (proto::pull) with one DLBS message (common/bucket_sync.hpp)
// built from this scheduler's journal or a snapshot, then closes.
// Both ways travel sealed (common/auth/envelope.hpp): the pull is a signed request from a configured node's
// address, the answer is signed by the source and bound to the pull's nonce, so a captured answer (an old table)
// cannot be replayed to a later pull. What fails is dropped and counted (auth.* rows of the sync table).
// Client: while this scheduler is standby and has a source, pulls every interval and hands the decoded message to
// the data plane, which applies it (the table keeps its single writer). Each step is a pure function in
// control/sync_steps.hpp; this class moves the bytes and counts.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "auth/peer_guard.hpp"
#include "auth/signer.hpp"
#include "bucket_table.hpp"
#include "counter.hpp"
#include "dataplane/command_queue.hpp"
#include "io/fd.hpp"
#include "io/table_format.hpp"

namespace dlba::sched {

struct SyncSettings {
    uint32_t listen_ip = 0;  // host order; this node's eth0 IP
    uint16_t port = 7101;
    uint32_t interval_ms = 100;
    uint64_t fingerprint = 0;
    uint16_t node = 0;          // this scheduler's node number: the sender id of its pulls and answers
    auth::GuardSettings guard;  // keys, the nodes' addresses, the replay window (config/peer_settings.hpp)
};

class TableSync {
public:
    TableSync(const SyncSettings& settings, const BucketTable& table, CommandQueue& commands,
              const std::atomic<bool>& active);

    bool start(std::string* err);                 // binds the server socket
    void run(const std::atomic<bool>& stop);      // the thread body
    // Where to pull from (0/0: nowhere). Any thread.
    void set_source(uint32_t ip, uint16_t port) {
        source_.store(static_cast<uint64_t>(ip) << 16 | port, std::memory_order_relaxed);
    }
    io::Table table() const;  // "sync": source, counts, last error, versions
    // A reloaded configuration's keys and nodes, taken by the sync thread before its next request. Any thread.
    void update_peers(auth::GuardSettings guard);

private:
    void serve_one();
    void pull(uint32_t ip, uint16_t port);
    void note_error(std::string e);

    std::optional<uint16_t> node_at(uint32_t ip) const;
    void take_peer_update();

    SyncSettings settings_;
    auth::Signer signer_;
    auth::PeerGuard server_guard_;  // the sync thread only, as is the client's
    auth::PeerGuard client_guard_;
    const BucketTable& table_;
    CommandQueue& commands_;
    const std::atomic<bool>& active_;
    io::Fd listen_;
    std::atomic<uint64_t> source_{0};
    Counter pulls_, deltas_, fulls_, up_to_date_, errors_, served_, bytes_in_;
    std::atomic<uint64_t> last_ok_unix_{0};
    std::atomic<uint64_t> source_version_{0};
    std::mutex peers_mutex_;  // guards pending_peers_ only
    std::optional<auth::GuardSettings> pending_peers_;
    mutable std::mutex error_mutex_;
    std::string last_error_;
};

}  // namespace dlba::sched
