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
#include <ctime>
#include <memory>

#include "bucket_sync.hpp"

namespace dlba::sched {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
}

// Reads exactly n bytes or fails at the deadline.
bool read_exact(int fd, char* out, size_t n, Clock::time_point deadline) {
    size_t got = 0;
    while (got < n) {
        pollfd p{fd, POLLIN, 0};
        const int rc = poll(&p, 1, remaining_ms(deadline));
        if (rc == 0) return false;
        if (rc < 0 && errno != EINTR) return false;
        const ssize_t r = read(fd, out + got, n - got);
        if (r == 0) return false;
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return false;
        }
        got += static_cast<size_t>(r);
    }
    return true;
}

bool write_all(int fd, const char* data, size_t n, Clock::time_point deadline) {
    size_t done = 0;
    while (done < n) {
        const ssize_t w = send(fd, data + done, n - done, MSG_NOSIGNAL);
        if (w > 0) {
            done += static_cast<size_t>(w);
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR) return false;
        pollfd p{fd, POLLOUT, 0};
        if (poll(&p, 1, remaining_ms(deadline)) <= 0) return false;
    }
    return true;
}

sockaddr_in address(uint32_t ip, uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(ip);
    a.sin_port = htons(port);
    return a;
}

uint64_t unix_now() { return static_cast<uint64_t>(std::time(nullptr)); }

}  // namespace

TableSync::TableSync(const SyncSettings& settings, const BucketTable& table, CommandQueue& commands,
                     const std::atomic<bool>& active)
    : settings_(settings), table_(table), commands_(commands), active_(active) {}

bool TableSync::start(std::string* err) {
    listen_.reset(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!listen_) {
        *err = std::string("socket: ") + std::strerror(errno);
        return false;
    }
    const int one = 1;
    setsockopt(listen_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const sockaddr_in a = address(settings_.listen_ip, settings_.port);
    if (bind(listen_.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) < 0 || listen(listen_.get(), 16) < 0) {
        *err = "table sync: cannot listen on " + format_ipv4(settings_.listen_ip) + ":" +
               std::to_string(settings_.port) + ": " + std::strerror(errno);
        listen_.reset();  // an unbound socket polls as hung up: keep none rather than spin on it
        return false;
    }
    return true;
}

void TableSync::run(const std::atomic<bool>& stop) {
    auto next_pull = Clock::now();
    while (!stop.load(std::memory_order_relaxed)) {
        pollfd p{listen_.get(), POLLIN, 0};  // fd -1 (no server) is ignored by poll
        const int wait = std::min(remaining_ms(next_pull), 200);
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
    const auto deadline = Clock::now() + std::chrono::seconds(1);
    std::string line;
    char c = 0;
    while (line.size() < 128 && read_exact(client.get(), &c, 1, deadline) && c != '\n') line.push_back(c);
    unsigned long long fp = 0, from = 0;
    std::string answer;
    if (std::sscanf(line.c_str(), "PULL %llx %llu", &fp, &from) != 2) {
        answer = "ERR bad request\n";
    } else if (fp != settings_.fingerprint) {
        answer = "ERR fingerprint mismatch: the two nodes hash differently (check scheduler.hash, hash_seed, table_size)\n";
    } else {
        answer = sync::encode(sync::answer(table_, settings_.fingerprint, from));
    }
    served_.add();
    write_all(client.get(), answer.data(), answer.size(), Clock::now() + std::chrono::seconds(5));
}

void TableSync::pull(uint32_t ip, uint16_t port) {
    pulls_.add();
    const auto deadline = Clock::now() + std::chrono::seconds(2);
    io::Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const sockaddr_in a = address(ip, port);
    if (!fd || (connect(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) < 0 && errno != EINPROGRESS)) {
        return note_error("connect to " + format_ipv4(ip) + ": " + std::strerror(errno));
    }
    pollfd p{fd.get(), POLLOUT, 0};
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (poll(&p, 1, std::min(remaining_ms(deadline), 500)) <= 0 ||
        getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len) < 0 || so_error != 0) {
        return note_error("connect to " + format_ipv4(ip) + ":" + std::to_string(port) + " failed: " +
                          std::strerror(so_error ? so_error : ETIMEDOUT));
    }
    char request[64];
    const int n = std::snprintf(request, sizeof request, "PULL %llx %llu\n",
                                static_cast<unsigned long long>(settings_.fingerprint),
                                static_cast<unsigned long long>(table_.version()));
    if (!write_all(fd.get(), request, static_cast<size_t>(n), deadline)) return note_error("send failed");
    std::string bytes(sync::kHeaderSize, '\0');
    if (!read_exact(fd.get(), bytes.data(), 4, deadline)) return note_error("no answer");
    if (bytes.compare(0, 4, "ERR ") == 0) {
        std::string rest;
        char c = 0;
        while (rest.size() < 200 && read_exact(fd.get(), &c, 1, deadline) && c != '\n') rest.push_back(c);
        return note_error("source refused: " + rest);
    }
    if (!read_exact(fd.get(), bytes.data() + 4, sync::kHeaderSize - 4, deadline)) return note_error("short header");
    std::string err;
    const auto body = sync::body_length(bytes, &err);
    const size_t max_body = static_cast<size_t>(table_.size()) * 7 + 64;
    if (!body || *body > max_body) return note_error("bad header: " + err);
    bytes.resize(sync::kHeaderSize + *body);
    if (!read_exact(fd.get(), bytes.data() + sync::kHeaderSize, *body, deadline)) return note_error("short body");
    bytes_in_.add(bytes.size());
    auto message = std::make_unique<sync::Message>();
    auto decoded = sync::decode(bytes, &err);
    if (!decoded) return note_error("malformed message: " + err);
    *message = std::move(*decoded);
    if (message->fingerprint != settings_.fingerprint || message->table_size != table_.size()) {
        return note_error("message for another table");
    }
    source_version_.store(message->to_version, std::memory_order_relaxed);
    if (message->kind == sync::Kind::up_to_date) {
        up_to_date_.add();
    } else {
        (message->kind == sync::Kind::full ? fulls_ : deltas_).add();
        if (!run_command(commands_, CommandKind::apply_sync, 0, 0, &err, message.get())) {
            if (err.find("within") != std::string::npos) message.release();  // the data plane may still read it
            return note_error("not applied: " + err);
        }
    }
    last_ok_unix_.store(unix_now(), std::memory_order_relaxed);
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
