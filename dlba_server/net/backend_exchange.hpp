// The back-end side of one request of a client connection: choosing the back end (the service's Balancer),
// connecting (an idle pooled connection or a new one), retrying and rerouting when a back end fails, sending the
// rebuilt request head and streaming its body (re-framed), reading and scanning the response, and writing the
// client's response (rebuilt head with cookie injection, the body as framed or de-chunked) into the client's output
// buffer.
//
// The client side (net/session.hpp) drives it through a narrow interface: begin() with the parsed head,
// forward_body() and request_done() as the parser goes on, step() whenever a socket may have moved,
// check_deadlines() on the worker's timer scan, and finish() (or answered_locally(), aborted(), cancel()) at its
// end. What the client side must do after a call is the ExchangeStep it returns; the exchange never calls into
// the session.
//
// Failures: a refused or timed-out connect marks the back end down and the request goes to another back end, at
// most `retries` more times; a back end that closes or resets without a byte of answer gets a replayable request
// (no body, idempotent method) again on another back end; an idle pooled connection the back end had closed is
// not held against it (the request goes again on a fresh connection). Once the final response head is queued for
// the client nothing is retried. No back end left: 503; a malformed or truncated answer: 502; a silent one: 504.
//
// Answers are held to the request side's strictness (http/response_scanner.hpp lists the rules): an answer whose
// framing a lenient client could read differently is refused with 502 and its connection closed, or passed on
// re-framed so that one reading remains (a close-delimited "gzip" body re-chunked; no framing fields on 1xx and
// 204). Bytes after the end of an answer (a body on a HEAD or 204 answer, a second answer nobody asked for) are not
// passed on and the connection is never pooled; the client still gets the complete answer. Each such answer counts
// once in the back end's bad_responses, the access log line says bad_response and stderr the rule (rate-limited).
//
// Upgrade (RFC 9110 §7.8): a request offering a protocol the service passes on (`upgrade_protocols`, default
// "websocket"; http/upgrade.hpp) is scheduled like any other and sent with its Upgrade field; a 101 that switches
// to an offered protocol is relayed (cookie injection included) and the connection becomes a byte tunnel
// (net/tunnel.hpp) that the session drives until it ends; the exchange keeps the back end's connection and its
// slot (requests in flight, QoS) for as long. Any other answer is an ordinary answer. Offers of other protocols are
// dropped from the forwarded head, so the request is served as a plain one.
//
// Pooled per worker; reset() keeps the capacity of its buffers and strings, so a warm worker does not allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "http/body_decoder.hpp"
#include "http/html_rewriter.hpp"
#include "http/request_parser.hpp"
#include "http/response_scanner.hpp"
#include "net/access_log.hpp"
#include "net/backend_pool.hpp"
#include "net/buffers.hpp"
#include "net/tunnel.hpp"
#include "policy/balancer.hpp"
#include "qos/qos_queues.hpp"
#include "reload/reload_plan.hpp"
#include "tls/session_binding.hpp"

namespace dlba::server {

class Session;
class WorkerContext;

// Request bytes waiting for the back end before the client is not read (and the parser pauses).
inline constexpr size_t kBackendHighWater = 64 * 1024;
// Response bytes waiting for the client before the back end is not read.
inline constexpr size_t kClientHighWater = 64 * 1024;

// Where the request came from, as the rebuilt head tells the back end.
struct RequestOrigin {
    std::string_view client_ip;  // "192.0.2.7", for X-Forwarded-For / Forwarded
    bool tls = false;            // the client came in over TLS (proto=https)
    ListenerKey listener;        // for the Host of an HTTP/1.0 request without one
    SessionBinding* tls_binding = nullptr;  // TLS: the connection's TLS-session binding (policy tls_session)
};

// The client side of the connection as the exchange sees it (both outlive the exchange).
struct ClientSide {
    OutBuffer* out = nullptr;  // the response goes here (attached from the worker's buffer pool when written to)
    // No request after this one: the response head says Connection: close. Set by the client side (Connection:
    // close, a reload, shutdown) and by the exchange (a close-delimited or de-chunked body, an early answer).
    bool* last_response = nullptr;
};

// What a call leaves the client side to do.
enum class ExchangeStep : uint8_t {
    blocked,   // nothing moved: wait for a socket
    progress,  // something moved (or a back end was tried again); see response_done()
    answer,    // no back end answers: the session answers local_status() itself (502, 503 or 504)
    abort,     // the response had begun and cannot be completed: the session cuts the client connection
};

class BackendExchange {
public:
    explicit BackendExchange(WorkerContext& worker);
    BackendExchange(const BackendExchange&) = delete;
    BackendExchange& operator=(const BackendExchange&) = delete;

    // From the worker's pool: a fresh exchange with its request buffer attached; and back.
    void reset();
    void release_buffers();

    // A request whose head is parsed (`head` is valid during this call only), to run on generation `gen` and its
    // service `service` for its whole life (the session holds that generation). Chooses the back end, writes the
    // rebuilt head for it and starts the connection. `owner` is the session the back-end connection's events go to.
    ExchangeStep begin(const http::RequestHead& head, const Generation& gen, size_t service,
                       const RequestOrigin& origin, Session* owner, ClientSide client);
    // Decoded body bytes of the request, re-framed for the back end. True when enough waits for the back end that
    // the parser should pause.
    bool forward_body(std::span<const char> data);
    // The whole request has been received from the client.
    void request_done();

    // Moves bytes both ways as far as the back-end socket and the client's buffer allow.
    ExchangeStep step();
    // The back end's deadlines: the connect, and the response once the back end has the whole request (or has
    // begun to answer). blocked when none has passed.
    ExchangeStep check_deadlines(int64_t now_ms, const ServerTimeouts& timeouts);

    // Whether a back-end event is for this exchange's connection (else a late one of a connection let go).
    bool owns(const BackendConn& c) const { return conn_ == &c; }
    // The response is complete: the back-end connection goes back to the pool when it can carry another request.
    void finish();
    // The session answered the request itself (`status`); the back end is let go.
    void answered_locally(uint16_t status);
    // The client connection is cut; the back end is let go. The log says 502 unless a status was received.
    void aborted();
    // The client connection closed: the back end is let go, nothing is logged.
    void cancel() {
        if (waiting_) leave_queue(true);  // the client is gone while it waited
        release_backend(false);
    }

    bool request_complete() const { return request_complete_; }
    // A request body the client had not sent to its end: the connection is out of step.
    bool request_body_unread() const { return !request_complete_ && request_framing_ != http::BodyFraming::none; }
    bool backend_backlogged() const { return to_backend_.pending() >= kBackendHighWater; }
    bool response_started() const { return response_started_; }
    bool response_done() const { return phase_ == ResponsePhase::done; }
    // Upgraded: the 101 is queued for the client and the connection is a tunnel (the session relays it).
    bool tunneling() const { return phase_ == ResponsePhase::tunnel; }
    Tunnel& tunnel() { return tunnel_; }
    // The tunnel ended (its reason set): the back end is let go, closed. The log line follows (describe()).
    void end_tunnel() { release_backend(false); }
    uint16_t local_status() const { return local_status_; }
    // QoS (net/backend_exchange_qos.cpp): waiting for a slot on a full back end (the client is not read meanwhile);
    // when it stopped waiting (0: never waited); the Retry-After of a 503 for a timeout or a full queue (0: none).
    bool waiting() const { return waiting_; }
    int64_t queue_left_ms() const { return queue_left_ms_; }
    uint32_t retry_after_s() const { return retry_after_s_; }
    // The request's access-log fields (the client's address and the time are the session's).
    void describe(AccessLogEntry& e, int64_t now_ms) const;

private:
    enum class ResponsePhase : uint8_t { head, body, done, tunnel };
    enum class Failure : uint8_t { refused, timeout, tls_handshake, reset, empty, truncated, bad_response };
    // How the response body goes to the client.
    enum class Relay : uint8_t {
        as_framed,  // the bytes as the back end framed them
        decoded,    // de-chunked, close-delimited (a chunked body to an HTTP/1.0 client)
        rechunked,  // chunked by us (a close-delimited, transfer-coded body to an HTTP/1.1 client)
        cdn_chunked,  // decoded, CDN URLs rewritten, chunked by us (HTTP/1.1 client)
        cdn_close,    // decoded, CDN URLs rewritten, close-delimited (HTTP/1.0 client)
    };

    std::optional<Choice> choose_backend();
    // ---- routes (net/backend_exchange_route.cpp) ----
    // The service of the listener's first matching route (or `listener_service`), its overflow when every back end
    // of the route's service is unusable or full; counted, and noted for the access log.
    size_t route_request(const http::RequestHead& head, const RequestOrigin& origin, size_t listener_service);
    bool service_has_room(size_t service) const;
    // ---- redirect services (net/backend_exchange_redirect.cpp) ----
    bool redirect_service() const { return balancer_->service().mode == ServiceMode::redirect; }
    // Where the requests of back end `backend` (array index, out of service) go: its backup chain.
    BackupTarget backup_of(size_t backend, int64_t now_ms) const;
    ExchangeStep answer_redirect(const RequestOrigin& origin);
    // ---- QoS (net/backend_exchange_qos.cpp) ----
    ExchangeStep admit(bool allow_pool);                    // a slot on backend_ (or wait for one), then start it
    ExchangeStep wait_for_slot(bool bound, bool allow_pool);  // bound: for backend_ only; else any of the service
    ExchangeStep resume_with(BackendState& granted);        // the slot came: on to that back end
    ExchangeStep wait_step();                               // step() while waiting: has the grant been taken?
    ExchangeStep queue_deadline(int64_t now_ms);            // check_deadlines() while waiting
    void leave_queue(bool abandoned);                       // withdraw; a slot granted meanwhile is given back
    void release_slot();                                    // the slot on backend_ goes back (or to a waiter)
    void take_choice(const Choice& choice);
    // ---- stateful-URI pins (net/backend_exchange_pin.cpp) ----
    void read_pin(const RequestOrigin& origin);  // at begin(): what the target and the cookies say
    std::string_view pin_answer();               // the answer's pin Set-Cookie ("" for none), counted
    ExchangeStep start_backend(bool allow_pool);
    ExchangeStep connect_failed(Failure why, const std::string& detail = {});
    ExchangeStep handshake_step(BackendConn& c, bool* progress);
    ExchangeStep backend_failed(Failure why);
    ExchangeStep backend_eof();
    ExchangeStep retry_elsewhere(uint16_t status_if_none);
    ExchangeStep give_up(uint16_t status);
    ExchangeStep process_response();
    void response_head_complete(const http::ResponseHead& head);
    void switch_protocols(const http::ResponseHead& head);  // a 101 to an offered upgrade: the tunnel starts
    void relay_body(const http::BodyStep& s);
    void body_complete();  // the back end's body ended: the rewriter's rest and the last chunk go out
    bool cdn_applies(const http::ResponseHead& h) const;  // rewrite this answer's CDN URLs?
    void note_bad_response(const char* rule);
    std::string backend_name() const;  // "back end KEY (ADDRESS:PORT)", for the error log
    void release_backend(bool reusable);
    BackendCounters& backend_counters() const;
    std::string& out();  // the client's output buffer, attached

    WorkerContext& w_;
    const Generation* gen_ = nullptr;
    const Balancer* balancer_ = nullptr;
    Session* owner_ = nullptr;
    ClientSide client_;

    // The request.
    std::string target_;   // copied: the balancer may be asked again after the parser has moved on (retries)
    std::string cookies_;  // every Cookie field value joined with "; "
    std::string method_;   // for the access log
    std::string host_;     // the request's Host without its port: the SNI of a back end with tls.sni = "host"
    std::string upgrade_;  // the Upgrade offer passed on to the back end ("websocket"); empty: none
    http::BodyFraming request_framing_ = http::BodyFraming::none;
    uint8_t client_minor_ = 1;
    bool head_request_ = false;
    bool replayable_ = false;        // no body and an idempotent method: may be sent again after an empty answer
    bool request_complete_ = false;  // the whole request has been received from the client

    // The back end (indexes into gen_).
    size_t service_backend_ = 0;  // index among the service's back ends
    size_t backend_ = 0;          // index in the array's back ends
    size_t service_ = 0;          // index of the service in gen_
    bool has_backend_ = false;
    int16_t route_ = -1;        // the listener's route that took the request; -1: its own service
    bool listener_routed_ = false;  // the listener has routes (the access log says which one took the request)
    bool overflowed_ = false;   // the route's overflow service took it
    ChoiceReason reason_ = ChoiceReason::none;
    bool force_cookie_ = false;  // set the injected cookie even if the response does not start a session
    SessionBinding* tls_binding_ = nullptr;  // the client connection's (outlives the exchange); nullptr: plain
    // Stateful-URI pin (policy/pin.hpp): whether the service's pin covers the target, the pin the request carries,
    // and the answer's Set-Cookie for it (capacity kept).
    PinMatch pin_match_;
    PinLookup pin_;
    bool client_tls_ = false;
    std::string pin_cookie_;
    uint8_t attempts_ = 0;
    static constexpr size_t kMaxTried = 17;  // retries are at most 16
    uint16_t tried_[kMaxTried] = {};
    uint8_t tried_count_ = 0;
    BackendConn* conn_ = nullptr;
    bool active_counted_ = false;  // counted in the back end's requests in flight
    OutBuffer to_backend_;
    InBuffer from_backend_;
    int64_t start_ms_ = 0;
    int64_t connect_start_us_ = 0;
    int64_t last_backend_ms_ = 0;
    bool backend_eof_ = false;
    bool extra_bytes_ = false;  // the back end sent more than the response: do not pool its connection
    bool redirected_ = false;   // answered with a redirect: no back-end connection, the body is dropped

    // QoS: the request's class, its wait for a slot.
    const ServiceQos* qos_ = nullptr;
    uint8_t class_ = kQosDefaultClass;
    bool waiting_ = false;
    bool wait_allows_pool_ = true;
    bool full_excluded_ = false;  // choose_backend() passed over a back end only because it was full
    int64_t queue_start_ms_ = 0;
    int64_t queue_ms_ = 0;
    int64_t queue_left_ms_ = 0;
    uint32_t retry_after_s_ = 0;
    QosWaiter waiter_;

    // The response.
    http::ResponseHeadScanner scanner_;
    http::BodyDecoder body_;
    http::HtmlRewriter cdn_;   // buffers reserved at its first use only (most connections never rewrite)
    std::string cdn_scratch_;  // one piece of rewritten body, before it is framed as a chunk
    ResponsePhase phase_ = ResponsePhase::head;
    Relay relay_ = Relay::as_framed;
    bool bad_response_ = false;      // counted in the back end's bad_responses (once per request)
    bool response_started_ = false;  // the final response head has been queued for the client (1xx do not count)
    bool response_keep_alive_ = false;
    uint64_t response_received_ = 0;  // bytes read from the back end
    uint16_t status_ = 0;             // what the client got (for the log)
    uint16_t local_status_ = 0;       // with ExchangeStep::answer
    uint64_t bytes_to_client_ = 0;
    std::vector<std::string> set_cookies_;
    std::string cookie_scratch_;  // the rebuilt Cookie header
    Tunnel tunnel_;               // after a 101: the byte relay (its figures stay for the log after it ends)
};

}  // namespace dlba::server
