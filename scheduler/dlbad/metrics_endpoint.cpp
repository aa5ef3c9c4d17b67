#include "metrics_endpoint.hpp"

#include <cerrno>
#include <chrono>
#include <optional>

#include <poll.h>
#include <sys/socket.h>

#include "io/tcp.hpp"
#include "io/unix_socket.hpp"
#include "metrics/scrape_request.hpp"

namespace dlba::dlbad {

namespace {

std::optional<io::Table> fetch(const std::string& socket, const char* request, int timeout_ms) {
    if (socket.empty()) return std::nullopt;
    std::string err;
    const auto answer = io::request(socket, request, timeout_ms, &err);
    if (!answer) return std::nullopt;
    const auto doc = nlohmann::json::parse(*answer, nullptr, false);
    if (doc.is_discarded()) return std::nullopt;
    return io::Table::from_json(doc, &err);
}

}  // namespace

std::string serve_scrape(int fd, int read_deadline_ms, const std::function<std::string()>& render) {
    const io::Deadline deadline = io::deadline_in(read_deadline_ms);
    std::string got;
    char buf[2048];
    for (;;) {
        const metrics::ScrapeVerdict v = metrics::judge_scrape_request(got);
        if (v == metrics::ScrapeVerdict::metrics) return metrics::scrape_response(v, render());
        if (v != metrics::ScrapeVerdict::incomplete) return metrics::scrape_response(v, {});
        const int left = io::millis_left(deadline);
        if (left <= 0) return metrics::timeout_response();
        pollfd p{fd, POLLIN, 0};
        const int ready = poll(&p, 1, left);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return metrics::timeout_response();
        const size_t room = std::min(sizeof buf, metrics::kMaxScrapeRequest - got.size());
        const ssize_t n = recv(fd, buf, room, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) return {};  // the client went away before its request was whole: nothing to answer
        got.append(buf, static_cast<size_t>(n));
    }
}

void fetch_local_tables(const MetricsSockets& sockets, int timeout_ms, metrics::NodeTables& out) {
    out.sched_status = fetch(sockets.scheduler, "status", timeout_ms);
    out.sched_counters = fetch(sockets.scheduler, "counters", timeout_ms);
    out.sched_hash = fetch(sockets.scheduler, "hash", timeout_ms);
    out.sched_sync = fetch(sockets.scheduler, "sync", timeout_ms);
    out.has_server = !sockets.server.empty();
    if (out.has_server) {
        out.server_status = fetch(sockets.server, "status", timeout_ms);
        out.server_backends = fetch(sockets.server, "backends", timeout_ms);
        out.server_latency = fetch(sockets.server, "latency", timeout_ms);
    }
}

void MetricsEndpoint::start() {
    service_.start([this](int fd) { return serve_scrape(fd, kReadDeadlineMs, render_); });
}

}  // namespace dlba::dlbad
