// A client connection that speaks HTTP/2 (ALPN h2, or h2c with prior knowledge on a plain listener with http2):
// the Session (net/session.hpp) hands its socket, buffers and back-end events over to this once the protocol is
// known. The codec is nghttp2 (http/h2_codec.hpp); each stream is one request, scheduled on its own exactly as an
// HTTP/1.1 request: a BackendExchange of its own (the service's Balancer and policy, the same request writer, so the
// back end sees HTTP/1.1), writing an HTTP/1.1 answer (cookie injection included) into the stream's own buffer,
// which http/h2_response.hpp reads back into HEADERS, DATA and trailers.
//
// Back-pressure: a stream's answer waits in its buffer until the client's flow-control windows take it, and the
// exchange stops reading its back end when that buffer is full (kClientHighWater), so a slow stream holds only its
// own back end. A request body is acknowledged to the client (WINDOW_UPDATE) only once its back end has taken it.
// Frames for the client wait in the session's output buffer up to kWireHighWater. Per connection that bounds memory
// to about max_concurrent_streams x (64 KiB + the initial window) whatever the bodies.
//
// Reload and shutdown: a graceful GOAWAY; the streams in progress finish on their generation; the connection moves
// to a new generation only when no stream is in progress, and closes when its listener is gone and the last stream
// is done.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "http/h2_codec.hpp"
#include "http/h2_response.hpp"
#include "net/buffers.hpp"

namespace dlba::server {

class Session;
class WorkerContext;
class BackendExchange;
enum class ExchangeStep : uint8_t;

class H2Connection final : public http::H2Sink {
public:
    H2Connection(Session& session, WorkerContext& worker);
    ~H2Connection() override;
    H2Connection(const H2Connection&) = delete;
    H2Connection& operator=(const H2Connection&) = delete;

    bool start();  // the server's SETTINGS are queued; false if nghttp2 cannot allocate
    void drive();  // every step that can be made without blocking (then schedules the session again if busy)
    // A back end of one of the streams may have moved: its answer goes into its stream now, and the frames go out
    // once the worker's event batch is done, so the answers of many streams leave in one write.
    void on_backend_event();
    void on_timer(int64_t now_ms);
    void on_new_generation();
    void begin_shutdown();  // GOAWAY: no new streams; closes once the streams in progress are done
    void cancel_all();      // the connection closes: every exchange is let go
    bool busy() const { return exchanges_ > 0; }

    // http::H2Sink
    void on_request(int32_t stream, const http::RequestHead& head) override;
    void on_refused(int32_t stream, uint16_t status) override;
    void on_body(int32_t stream, std::span<const char> data) override;
    void on_request_end(int32_t stream) override;
    void on_close(int32_t stream, uint32_t error_code) override;
    http::H2Body read_body(int32_t stream, char* buf, size_t len) override;
    void on_event(http::H2Event e) override;

private:
    struct Stream {
        int32_t id = 0;
        BackendExchange* ex = nullptr;
        OutBuffer h1;       // the exchange's answer, as for an HTTP/1.1 client
        bool last = false;  // the exchange's "no request after this one" (meaningless on h2)
        http::H1ResponseReader reader;
        bool submitted = false;  // response HEADERS submitted
        bool deferred = false;   // the data provider waits for bytes
        bool body_done = false;  // the last DATA (or trailers) handed to nghttp2
        bool request_ended = false;
        bool reset = false;      // reset by us
        size_t unconsumed = 0;   // request body bytes not yet acknowledged to the client
        uint64_t body_bytes = 0;
        uint64_t sent = 0;       // body bytes given to nghttp2
        int64_t last_rx_ms = 0;
    };

    Stream* find(int32_t id) const;
    Stream* open_stream(int32_t id);
    bool step_streams();
    bool settle(Stream& s, ExchangeStep step);
    bool pump(Stream& s);
    void answer_locally(Stream& s, uint16_t status);
    void abort_stream(Stream& s);
    void finish_exchange(Stream& s);
    void release_exchange(Stream& s);
    bool answer_complete(const Stream& s) const;  // no more bytes will come into s.h1
    void log(const Stream& s, uint16_t local_status = 0);
    void fatal();

    Session& s_;
    WorkerContext& w_;
    http::H2Codec codec_;
    std::vector<Stream*> streams_;  // open streams
    // Closed streams are kept per worker thread for the next ones (their buffers' capacity too), so an idle h2
    // connection holds none and a warm worker does not allocate one per stream.
    static thread_local std::vector<std::unique_ptr<Stream>> free_;
    void recycle(Stream* st);
    size_t exchanges_ = 0;                        // streams with an exchange in progress
    bool failed_ = false;                         // a connection error: send what nghttp2 queued, then close
    bool going_away_ = false;
    bool drive_scheduled_ = false;  // on the worker's list to be driven after this event batch
    int64_t last_activity_ms_ = 0;
};

}  // namespace dlba::server
