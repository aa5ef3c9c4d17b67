// dlbad's Prometheus endpoint (metrics.listen): GET /metrics answers with this node's metrics, gathered at each
// scrape from dlbad's own tables and, through the same Unix sockets dlbactl uses, the local scheduler's and DLBA
// server's (common/metrics/node_metrics.hpp renders them). Its own thread, one connection at a time, far from any
// data path: a request head is read within kReadDeadlineMs and at most metrics::kMaxScrapeRequest bytes, anything
// but GET /metrics is answered 404/405/400/431 (408 on the deadline), and every answer closes the connection.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "metrics/node_metrics.hpp"
#include "tcp_service.hpp"

namespace dlba::dlbad {

// Reads one request head from `fd` (bounded in time and size) and returns the whole answer to write. `render` is
// called only for GET /metrics.
std::string serve_scrape(int fd, int read_deadline_ms, const std::function<std::string()>& render);

struct MetricsSockets {
    std::string scheduler;  // the local scheduler's control socket
    std::string server;     // the local DLBA server's monitor socket ("" without a server section)
};

// The local daemons' tables for one scrape (each request bounded by timeout_ms); dlbad's own are added by the
// caller.
void fetch_local_tables(const MetricsSockets& sockets, int timeout_ms, metrics::NodeTables& out);

class MetricsEndpoint {
public:
    static constexpr int kReadDeadlineMs = 2000;
    static constexpr int kWriteDeadlineMs = 2000;

    explicit MetricsEndpoint(std::function<std::string()> render) : render_(std::move(render)) {}

    bool open(uint32_t ip, uint16_t port, std::string* err) { return service_.open(ip, port, err); }
    void start();
    void request_stop() { service_.request_stop(); }
    void join() { service_.join(); }

private:
    std::function<std::string()> render_;
    TcpService service_{kWriteDeadlineMs};
};

}  // namespace dlba::dlbad
