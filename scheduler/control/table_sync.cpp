#include "table_sync.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "bucket_sync.hpp"
#include "clock.hpp"
#include "control/sync_steps.hpp"
#include "io/envelope_stream.hpp"
#include "io/tcp.hpp"
#include "protocol/builders.hpp"

namespace dlba::sched {

namespace {
constexpr size_t kMaxPullBytes = 128;  // a PULL line
}  // namespace

TableSync::TableSync(const SyncSettings& settings, const BucketTable& table, CommandQueue& commands,
                     const std::atomic<bool>& active)
    : settings_(settings),
      signer_(settings.guard.ring.empty() ? auth::insecure_ring() : settings.guard.ring, settings.node),
      server_guard_("dlba-scheduler: table sync server", settings.guard),
      client_guard_("dlba-scheduler: table sync client", settings.guard), table_(table), commands_(commands),
      active_(active) {}

std::optional<uint16_t> TableSync::node_at(uint32_t ip) const {
    for (const auto& [n, node_ip] : settings_.guard.nodes) {
        if (node_ip == ip) return n;
    }
    return std::nullopt;
}

bool TableSync::start(std::string* err) {
    listen_ = io::tcp_listener(settings_.listen_ip, settings_.port, err);
    if (!listen_) {
        *err = "table sync: cannot listen: " + *err;  // no socket kept: an unbound one would poll as hung up
        return false;
    }
    return true;
}

void TableSync::run(const std::atomic<bool>& stop) {
    using Clock = std::chrono::steady_clock;
    auto next_pull = Clock::now();
    while (!stop.load(std::memory_order_relaxed)) {
        take_peer_update();
        pollfd p{listen_.get(), POLLIN, 0};  // fd -1 (no server) is ignored by poll
        const int wait = std::min(io::millis_left(next_pull), 200);
        if (poll(&p, 1, wait) > 0 && (p.revents & POLLIN)) serve_one();
        if (Clock::now() < next_pull) continue;
        next_pull = Clock::now() + std::chrono::milliseconds(settings_.interval_ms);
        const uint64_t src = source_.load(std::memory_order_relaxed);
        if (src != 0 && !active_.load(std::memory_order_relaxed)) {
            pull(static_cast<uint32_t>(src >> 16), static_cast<uint16_t>(src));
        }
    }
}

void TableSync::update_peers(auth::GuardSettings guard) {
    std::lock_guard<std::mutex> lock(peers_mutex_);
    pending_peers_ = std::move(guard);
}

void TableSync::take_peer_update() {
    std::optional<auth::GuardSettings> next;
    {
        std::lock_guard<std::mutex> lock(peers_mutex_);
        next.swap(pending_peers_);
    }
    if (!next) return;
    signer_.set_ring(next->ring);
    settings_.guard = *next;
    server_guard_.update(*next);
    client_guard_.update(std::move(*next));
}

void TableSync::serve_one() {
    io::Fd client(accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client) return;
    std::string bytes;
    const auto request = io::read_sealed_request(client.get(), server_guard_, auth::Kind::sync_request, kMaxPullBytes,
                                                 io::deadline_in(1000), false, "a sync request", &bytes);
    if (!request) return;  // closed unanswered
    std::string line(request->payload);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    const std::string answer = sync::answer_pull(line, table_, settings_.fingerprint);
    served_.add();
    io::write_all(client.get(), signer_.answer(auth::Kind::sync_answer, answer, request->header),
                  io::deadline_in(5000));
}

void TableSync::pull(uint32_t ip, uint16_t port) {
    pulls_.add();
    const auto deadline = io::deadline_in(2000);
    std::string err;
    io::Fd fd = io::tcp_connect(ip, port, std::min(deadline, io::deadline_in(500)), &err);
    if (!fd) return note_error(err);
    const std::optional<uint16_t> source = node_at(ip);
    if (!source) return note_error("the source " + format_ipv4(ip) + " is no node of the array");
    uint64_t nonce = 0;
    const std::string request = signer_.request(
        auth::Kind::sync_request, proto::format_line(proto::pull(settings_.fingerprint, table_.pull_from_version())), &nonce);
    if (!io::write_all(fd.get(), request, deadline)) return note_error("send failed");
    const size_t max_body = static_cast<size_t>(table_.size()) * 7 + 64 + sync::kHeaderSize;
    std::string sealed;
    const io::EnvelopeRead read = io::read_envelope(fd.get(), max_body, deadline, &sealed);
    if (read == io::EnvelopeRead::short_read) return note_error("no answer (or the source refused our pull)");
    if (read != io::EnvelopeRead::ok) {
        client_guard_.drop(auth::Drop::unsigned_message, ip, auth::unix_us(), "a sync answer");
        return note_error("answer not signed");
    }
    const auto answer = client_guard_.answer(sealed, auth::Kind::sync_answer, *source, nonce, ip, auth::unix_us());
    if (!answer) {
        return note_error(std::string("answer dropped: ") + auth::drop_name(*client_guard_.last_verdict()));
    }
    const std::string bytes(answer->payload);
    if (bytes.compare(0, 4, "ERR ") == 0) {
        std::string rest = bytes.substr(4);
        if (!rest.empty() && rest.back() == '\n') rest.pop_back();
        return note_error("source refused: " + rest);
    }
    bytes_in_.add(bytes.size());
    auto decoded = sync::decode(bytes, &err, table_.size());
    if (!decoded) return note_error("malformed message: " + err);
    const sync::Verdict verdict = sync::judge(*decoded, settings_.fingerprint, table_.size());
    if (verdict == sync::Verdict::foreign) return note_error("message for another table");
    source_version_.store(decoded->to_version, std::memory_order_relaxed);
    if (verdict == sync::Verdict::up_to_date) {
        up_to_date_.add();
    } else {
        (decoded->kind == sync::Kind::full ? fulls_ : deltas_).add();
        auto message = std::make_unique<sync::Message>(std::move(*decoded));
        const CommandOutcome outcome = run_command(commands_, CommandKind::apply_sync, 0, 0, message.get());
        if (outcome == CommandOutcome::timed_out) message.release();  // the data plane may still read it
        if (outcome != CommandOutcome::applied) return note_error(std::string("not applied: ") + outcome_text(outcome));
    }
    last_ok_unix_.store(clock::unix_s(), std::memory_order_relaxed);
}

void TableSync::note_error(std::string e) {
    errors_.add();
    std::lock_guard<std::mutex> lock(error_mutex_);
    last_error_ = std::move(e);
}

io::Table TableSync::table() const {
    io::Table t;
    t.name = "sync";
    t.source = "scheduler";
    t.version = table_.version();
    const uint64_t src = source_.load(std::memory_order_relaxed);
    std::string error;
    {
        std::lock_guard<std::mutex> lock(error_mutex_);
        error = last_error_;
    }
    const uint64_t last_ok = last_ok_unix_.load(std::memory_order_relaxed);
    t.meta = {
        {"listen", listen_ ? nlohmann::json(format_ipv4(settings_.listen_ip) + ":" + std::to_string(settings_.port))
                           : nlohmann::json(nullptr)},
        {"source", src ? nlohmann::json(format_ipv4(static_cast<uint32_t>(src >> 16)) + ":" +
                                        std::to_string(static_cast<uint16_t>(src)))
                       : nlohmann::json(nullptr)},
        {"interval_ms", settings_.interval_ms},
        {"last_ok", last_ok ? nlohmann::json(last_ok) : nlohmann::json(nullptr)},
        {"last_error", error.empty() ? nlohmann::json(nullptr) : nlohmann::json(error)},
    };
    t.columns = {{"counter", io::ColumnType::string}, {"value", io::ColumnType::unsigned_integer}};
    const auto row = [&](const char* n, uint64_t v) { t.rows.push_back({n, v}); };
    row("local_version", table_.version());
    row("source_version", source_version_.load(std::memory_order_relaxed));
    row("pulls", pulls_.get());
    row("deltas", deltas_.get());
    row("fulls", fulls_.get());
    row("up_to_date", up_to_date_.get());
    row("errors", errors_.get());
    row("served", served_.get());
    row("bytes_in", bytes_in_.get());
    // Peer authentication: what both sides dropped, by reason (common/auth/drops.hpp).
    for (size_t r = 0; r < auth::kDropReasons; ++r) {
        const auto d = static_cast<auth::Drop>(r);
        t.rows.push_back({std::string("auth.dropped.") + auth::drop_name(d),
                          server_guard_.drops().get(d) + client_guard_.drops().get(d)});
    }
    return t;
}

}  // namespace dlba::sched
