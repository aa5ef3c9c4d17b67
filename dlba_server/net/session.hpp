// One client connection: a state machine driven by readiness events of the client socket and of the back-end
// connection of the request in progress.
//
//   read client bytes -> RequestParser -> head complete: choose a back end (the service's Balancer), connect,
//   send the rebuilt head, stream the body (re-framed) -> scan the response head, rewrite it (cookie injection),
//   stream the body to the client -> next request on the same connection (pipelined ones wait in the input).
//
// Back-pressure both ways: the client is not read while the request bytes for the back end pile up, and the back
// end is not read while the response bytes for the client pile up; each side's buffer stays under a high-water
// mark plus one read. Epoll is edge-triggered, so the session remembers which socket may have more to give (or
// room to take) and keeps going until every side would block.
//
// A session runs each request on one configuration generation (net/shared.hpp) and holds it, counted in its
// worker, while it does: an exchange's back-end and service indexes mean something only in that generation. It
// moves to the worker's newer generation between requests (and its connection closes after the current request if
// a reload removed its listener).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "http/body_decoder.hpp"
#include "http/request_parser.hpp"
#include "http/response_scanner.hpp"
#include "net/buffers.hpp"
#include "net/shared.hpp"
#include "net/transport.hpp"
#include "policy/balancer.hpp"
#include "reload/reload_plan.hpp"

namespace dlba::server {

class Worker;
class Session;
struct Listener;
struct GenerationRef;

// What an epoll event points at.
enum class HandleKind : uint8_t { listener, client, backend, wakeup };
struct Handle {
    HandleKind kind;
    void* owner;
};

// A connection to a back end: in use by one session's request, or idle in the worker's pool.
struct BackendConn {
    Handle handle{HandleKind::backend, this};
    io::Fd fd;
    Session* owner = nullptr;  // nullptr while idle in the pool (or dead)
    size_t backend = 0;        // index in the array's back ends of generation `generation`
    uint64_t generation = 0;
    bool connecting = false;
    bool readable = false;
    bool writable = false;
    bool error_event = false;  // EPOLLERR/EPOLLHUP seen
    bool dead = false;         // closed; the object waits for the end of the event batch before reuse
    bool reused = false;       // came from the idle pool
    int64_t idle_since_ms = 0;
};

// The parser and its callbacks, pooled per worker: a parser reserves its whole head buffer up front, so idle
// connections hand theirs back.
struct ParserSlot final : http::RequestCallbacks {
    explicit ParserSlot(const http::RequestLimits& limits) : parser(limits, *this) {}
    http::Action on_request_head(const http::RequestHead& head) override;
    http::Action on_body_data(std::span<const char> data) override;
    http::Action on_message_complete() override;

    Session* session = nullptr;
    uint64_t generation = 0;  // whose request limits it was built with
    http::RequestParser parser;
};

// One request/response in progress. Pooled per worker; reset() keeps the capacity of its buffers.
struct Exchange {
    Exchange();
    void reset();

    enum class Phase : uint8_t { head, body, done };

    // The request.
    std::string target;   // copied: the balancer may be asked again after the parser has moved on (retries)
    std::string cookies;  // every Cookie field value joined with "; "
    std::string method;   // for the access log
    http::BodyFraming request_framing = http::BodyFraming::none;
    uint8_t client_minor = 1;
    bool head_request = false;
    bool replayable = false;        // no body and an idempotent method: may be sent again after an empty answer
    bool request_complete = false;  // the whole request has been received from the client
    bool local = false;             // answered by the proxy itself; request bytes are discarded
    uint64_t request_body_bytes = 0;

    // The back end (indexes into the session's generation, which does not change while an exchange exists).
    size_t service_backend = 0;  // index among the service's back ends
    size_t backend = 0;          // index in the array's back ends
    bool has_backend = false;
    ChoiceReason reason = ChoiceReason::none;
    bool inject = false;
    uint8_t attempts = 0;
    static constexpr size_t kMaxTried = 17;  // retries are at most 16
    uint16_t tried[kMaxTried] = {};
    uint8_t tried_count = 0;
    BackendConn* conn = nullptr;
    bool active_counted = false;
    OutBuffer to_backend;
    InBuffer from_backend;
    int64_t start_ms = 0;
    int64_t connect_start_us = 0;
    int64_t last_backend_ms = 0;
    bool backend_eof = false;
    bool extra_bytes = false;  // the back end sent more than the response: do not pool its connection

    // The response.
    http::ResponseHeadScanner scanner;
    http::BodyDecoder body;
    Phase phase = Phase::head;
    bool raw_body = true;  // forward the body bytes as framed (false: de-chunked for an HTTP/1.0 client)
    bool response_started = false;  // bytes of the response have been queued for the client
    bool response_keep_alive = false;
    uint64_t response_received = 0;  // bytes read from the back end
    uint16_t status = 0;
    uint64_t bytes_to_client = 0;
    std::vector<std::string> set_cookies;
    std::string scratch;
};

class Session {
public:
    Session(Worker& worker, Transport transport, const Listener& listener, uint32_t peer_ip, uint16_t peer_port);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void on_client_event(uint32_t events);
    void on_backend_event(BackendConn& conn, uint32_t events);
    void on_timer();
    // The worker adopted a new configuration generation: switch now if between requests (else before the next
    // request); if this connection's listener is gone, finish the request in progress and close.
    void on_new_generation();
    void begin_shutdown();  // stop taking requests: idle now -> close, busy -> close after the response
    void drive();           // make every step that can be made without blocking
    void terminate();       // close now, whatever is in flight

    bool closed() const { return closed_; }
    int fd() const { return client_.fd(); }

    Handle handle{HandleKind::client, this};
    size_t slot = 0;  // position in the worker's session list

    // From the parser (via ParserSlot).
    http::Action on_request_head(const http::RequestHead& head);
    http::Action on_body_data(std::span<const char> data);
    http::Action on_message_complete();

private:
    enum class Failure : uint8_t { refused, timeout, reset, empty, bad_response };

    bool flush_client();
    bool read_client();
    bool parse_client();
    bool backend_io();
    void process_response();
    void response_head_complete(const http::ResponseHead& head);

    const Generation& gen() const;  // the generation this session's current (or next) request runs on
    void switch_generation();
    BackendCounters& backend_counters(size_t backend);
    const Balancer& balancer() const;
    std::string& out();  // the client's output buffer, attached
    std::optional<Choice> choose_backend();
    void take_choice(const Choice& choice);
    void start_backend(bool allow_pool);
    void connect_failed(Failure why);
    void backend_failed(Failure why);
    void backend_eof();
    void retry_elsewhere(uint16_t status_if_none);
    void release_backend(bool reusable);
    void answer_locally(uint16_t status);
    void finish_exchange();
    void abort_client();
    void request_error(const http::HttpError& e);
    void note_handshake();
    void start_closing();
    void close();
    void log_request();

    Worker& w_;
    Transport client_;
    GenerationRef* gen_;    // held (counted) in the worker while this session uses it
    ListenerKey listener_;  // the listener it came in on, found again in each new generation
    uint32_t peer_ip_;
    uint16_t peer_port_;
    uint16_t service_ = 0;     // the listener's service in gen_
    char peer_text_[16] = {};  // dotted quad, for X-Forwarded-For and the log

    bool rd_ready_ = false, wr_ready_ = true;        // the client socket may have bytes / room
    bool rd_wants_wr_ = false, wr_wants_rd_ = false;  // TLS: a read waits for writability and vice versa
    bool peer_eof_ = false;
    bool no_more_requests_ = false;  // close once the current response is out
    bool closing_ = false;           // flushing the last bytes before closing
    bool lingering_ = false;         // output done and shut down; discarding input until the client closes
    bool closed_ = false;
    bool handshake_noted_ = false;
    bool client_blocked_ = false;
    bool listener_gone_ = false;  // a reload removed its listener: no request after the current one

    InBuffer in_;
    OutBuffer to_client_;
    ParserSlot* parser_ = nullptr;
    Exchange* ex_ = nullptr;

    int64_t head_start_ms_ = 0;  // a request head (or the TLS handshake) is under way since; 0 = none
    int64_t idle_since_ms_ = 0;
    int64_t last_client_rx_ms_ = 0;
    int64_t blocked_since_ms_ = 0;
    int64_t linger_start_ms_ = 0;
    uint64_t lingered_bytes_ = 0;
    std::string x_log_line_;
};

}  // namespace dlba::server
