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
#include "io/tcp.hpp"
#include "protocol/builders.hpp"

namespace dlba::sched {

TableSync::TableSync(const SyncSettings& settings, const BucketTable& table, CommandQueue& commands,
                     const std::atomic<bool>& active)
    : settings_(settings), table_(table), commands_(commands), active_(active) {}

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

void TableSync::serve_one() {
    io::Fd client(accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client) return;
    std::string line;
    io::read_line(client.get(), line, 128, io::deadline_in(1000));
    const std::string answer = sync::answer_pull(line, table_, settings_.fingerprint);
    served_.add();
    io::write_all(client.get(), answer, io::deadline_in(5000));
}

void TableSync::pull(uint32_t ip, uint16_t port) {
    pulls_.add();
    const auto deadline = io::deadline_in(2000);
    std::string err;
    io::Fd fd = io::tcp_connect(ip, port, std::min(deadline, io::deadline_in(500)), &err);
    if (!fd) return note_error(err);
    const std::string request = proto::format_line(proto::pull(settings_.fingerprint, table_.version()));
    if (!io::write_all(fd.get(), request, deadline)) return note_error("send failed");
    std::string bytes(sync::kHeaderSize, '\0');
    if (!io::read_exact(fd.get(), bytes.data(), 4, deadline)) return note_error("no answer");
    if (bytes.compare(0, 4, "ERR ") == 0) {
        std::string rest;
        io::read_line(fd.get(), rest, 200, deadline);
        return note_error("source refused: " + rest);
    }
    if (!io::read_exact(fd.get(), bytes.data() + 4, sync::kHeaderSize - 4, deadline)) return note_error("short header");
    const auto body = sync::body_length(bytes, &err);
    const size_t max_body = static_cast<size_t>(table_.size()) * 7 + 64;
    if (!body || *body > max_body) return note_error("bad header: " + err);
    bytes.resize(sync::kHeaderSize + *body);
    if (!io::read_exact(fd.get(), bytes.data() + sync::kHeaderSize, *body, deadline)) return note_error("short body");
    bytes_in_.add(bytes.size());
    auto decoded = sync::decode(bytes, &err);
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
    return t;
}

}  // namespace dlba::sched
