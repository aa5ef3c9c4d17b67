// The server codec against nghttp2's own client: requests become RequestHeads (cookies joined, :authority as
// host), answers go out with deferred bodies and trailers, request bodies wait for consume(), and the flood limits
// (rapid reset, empty DATA frames, concurrent streams, header list size) are hit and reported.
#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "http/h2_codec.hpp"

using namespace dlba::http;

namespace {

struct Server : H2Sink {
    H2Codec codec;
    struct Req {
        std::string method, target, host, cookie;
        std::string body;
        bool ended = false, refused = false, closed = false;
        uint16_t refused_status = 0;
        uint32_t close_code = 0;
    };
    std::map<int32_t, Req> reqs;
    std::map<int32_t, std::string> bodies;  // answer bodies still to give
    std::map<int32_t, bool> body_ready;
    std::map<H2Event, int> events;
    bool send_trailers = false;

    void on_request(int32_t id, const RequestHead& h) override {
        Req& r = reqs[id];
        r.method = h.method;
        r.target = h.target;
        r.host = h.host;
        for (const Header& f : h.headers)
            if (f.name == "cookie") r.cookie = f.value;
    }
    void on_refused(int32_t id, uint16_t status) override {
        reqs[id].refused = true;
        reqs[id].refused_status = status;
    }
    void on_body(int32_t id, std::span<const char> d) override { reqs[id].body.append(d.data(), d.size()); }
    void on_request_end(int32_t id) override { reqs[id].ended = true; }
    void on_close(int32_t id, uint32_t code) override {
        reqs[id].closed = true;
        reqs[id].close_code = code;
    }
    H2Body read_body(int32_t id, char* buf, size_t len) override {
        H2Body b;
        if (!body_ready[id]) {
            b.deferred = true;
            return b;
        }
        std::string& s = bodies[id];
        b.n = std::min(len, s.size());
        std::memcpy(buf, s.data(), b.n);
        s.erase(0, b.n);
        if (s.empty()) {
            b.eof = true;
            if (send_trailers) {
                const Header t[] = {{"x-sum", "42"}};
                codec.trailers(id, t);
                b.trailers = true;
            }
        }
        return b;
    }
    void on_event(H2Event e) override { ++events[e]; }
};

struct Client {
    nghttp2_session* s = nullptr;
    std::map<int32_t, std::string> data;
    std::map<int32_t, std::map<std::string, std::string>> heads;
    std::map<int32_t, uint32_t> closed;
    bool goaway = false;
    uint32_t goaway_code = 0;

    Client() {
        nghttp2_session_callbacks* cb;
        nghttp2_session_callbacks_new(&cb);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
            cb, [](nghttp2_session*, uint8_t, int32_t id, const uint8_t* d, size_t n, void* u) {
                static_cast<Client*>(u)->data[id].append(reinterpret_cast<const char*>(d), n);
                return 0;
            });
        nghttp2_session_callbacks_set_on_header_callback(
            cb, [](nghttp2_session*, const nghttp2_frame* f, const uint8_t* n, size_t nl, const uint8_t* v, size_t vl,
                   uint8_t, void* u) {
                static_cast<Client*>(u)->heads[f->hd.stream_id][std::string(reinterpret_cast<const char*>(n), nl)] =
                    std::string(reinterpret_cast<const char*>(v), vl);
                return 0;
            });
        nghttp2_session_callbacks_set_on_stream_close_callback(cb, [](nghttp2_session*, int32_t id, uint32_t code,
                                                                      void* u) {
            static_cast<Client*>(u)->closed[id] = code;
            return 0;
        });
        nghttp2_session_callbacks_set_on_frame_recv_callback(cb, [](nghttp2_session*, const nghttp2_frame* f,
                                                                    void* u) {
            if (f->hd.type == NGHTTP2_GOAWAY) {
                static_cast<Client*>(u)->goaway = true;
                static_cast<Client*>(u)->goaway_code = f->goaway.error_code;
            }
            return 0;
        });
        nghttp2_session_client_new(&s, cb, this);
        nghttp2_session_callbacks_del(cb);
        nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, nullptr, 0);
    }
    ~Client() { nghttp2_session_del(s); }

    int32_t get(const std::vector<std::pair<std::string, std::string>>& extra = {}, bool end = true) {
        std::vector<std::pair<std::string, std::string>> f{
            {":method", end ? "GET" : "POST"}, {":scheme", "https"}, {":authority", "web.example"}, {":path", "/x"}};
        f.insert(f.end(), extra.begin(), extra.end());
        std::vector<nghttp2_nv> nv;
        for (auto& [n, v] : f) {
            nv.push_back({reinterpret_cast<uint8_t*>(n.data()), reinterpret_cast<uint8_t*>(v.data()), n.size(),
                          v.size(), NGHTTP2_NV_FLAG_NONE});
        }
        if (end) return nghttp2_submit_request(s, nullptr, nv.data(), nv.size(), nullptr, nullptr);
        return nghttp2_submit_headers(s, NGHTTP2_FLAG_NONE, -1, nullptr, nv.data(), nv.size(), nullptr);
    }
    std::string out() {
        std::string o;
        const uint8_t* p;
        ssize_t n;
        while ((n = nghttp2_session_mem_send(s, &p)) > 0) o.append(reinterpret_cast<const char*>(p), n);
        return o;
    }
    void in(const std::string& b) {
        nghttp2_session_mem_recv(s, reinterpret_cast<const uint8_t*>(b.data()), b.size());
    }
};

// Raw frames, for a client that breaks the rules nghttp2's own client keeps.
std::string frame(uint8_t type, uint8_t flags, int32_t id, const std::string& payload) {
    const auto len = static_cast<uint32_t>(payload.size());
    std::string f;
    for (int shift : {16, 8, 0}) f += static_cast<char>((len >> shift) & 0xff);
    f += static_cast<char>(type);
    f += static_cast<char>(flags);
    for (int shift : {24, 16, 8, 0}) f += static_cast<char>((id >> shift) & (shift == 24 ? 0x7f : 0xff));
    return f + payload;
}
std::string literal(const std::string& n, const std::string& v) {  // HPACK literal, not indexed, short strings
    return std::string(1, '\0') + static_cast<char>(n.size()) + n + static_cast<char>(v.size()) + v;
}
std::string request_headers(int32_t id, bool end_stream) {
    const std::string block =
        literal(":method", "GET") + literal(":scheme", "http") + literal(":authority", "a") + literal(":path", "/");
    return frame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | (end_stream ? NGHTTP2_FLAG_END_STREAM : 0), id, block);
}
std::string rst_stream(int32_t id) { return frame(NGHTTP2_RST_STREAM, 0, id, std::string("\0\0\0\x08", 4)); }

// Both ways until nothing moves. False when the server's receive failed.
bool exchange(Client& c, Server& srv) {
    bool ok = true;
    for (int i = 0; i < 50; ++i) {
        const std::string to_server = c.out();
        if (!to_server.empty() && !srv.codec.receive(to_server.data(), to_server.size())) ok = false;
        std::string to_client;
        srv.codec.send(to_client, 1 << 20);
        if (!to_client.empty()) c.in(to_client);
        if (to_server.empty() && to_client.empty()) break;
    }
    return ok;
}

}  // namespace

TEST_CASE("h2 codec: a request, its answer with a deferred body and trailers", "[h2]") {
    Server srv;
    REQUIRE(srv.codec.start({}, {}, srv));
    Client c;
    const int32_t id = c.get({{"cookie", "a=1"}, {"cookie", "SpServer=web2"}});
    REQUIRE(exchange(c, srv));
    REQUIRE(srv.reqs.count(id));
    CHECK(srv.reqs[id].method == "GET");
    CHECK(srv.reqs[id].target == "/x");
    CHECK(srv.reqs[id].host == "web.example");
    CHECK(srv.reqs[id].cookie == "a=1; SpServer=web2");
    CHECK(srv.reqs[id].ended);
    CHECK(srv.events[H2Event::stream_opened] == 1);

    const Header fields[] = {{"content-type", "text/plain"}, {"set-cookie", "SpServer=web2; Path=/"}};
    srv.send_trailers = true;
    REQUIRE(srv.codec.respond(id, 200, fields, true));
    exchange(c, srv);
    CHECK(c.heads[id][":status"] == "200");
    CHECK(c.data[id].empty());  // deferred
    CHECK_FALSE(c.closed.count(id));
    srv.bodies[id] = std::string(100000, 'b');  // more than the client's initial window: flow control
    srv.body_ready[id] = true;
    srv.codec.resume(id);
    exchange(c, srv);
    CHECK(c.data[id].size() == 100000);
    CHECK(c.heads[id]["x-sum"] == "42");
    REQUIRE(c.closed.count(id));
    CHECK(c.closed[id] == 0);
    CHECK(srv.reqs[id].closed);
}

TEST_CASE("h2 codec: a request body's window reopens only with consume()", "[h2]") {
    H2Settings st;
    st.initial_window_bytes = 16384;
    Server srv;
    REQUIRE(srv.codec.start(st, {}, srv));
    Client c;
    exchange(c, srv);  // the client learns the window
    std::string body(50000, 'u');
    nghttp2_data_provider dp{};
    dp.source.ptr = &body;
    dp.read_callback = [](nghttp2_session*, int32_t, uint8_t* buf, size_t len, uint32_t* flags,
                          nghttp2_data_source* src, void*) -> ssize_t {
        auto* b = static_cast<std::string*>(src->ptr);
        const size_t n = std::min(len, b->size());
        std::memcpy(buf, b->data(), n);
        b->erase(0, n);
        if (b->empty()) *flags |= NGHTTP2_DATA_FLAG_EOF;
        return static_cast<ssize_t>(n);
    };
    std::string m = "POST", sch = "http", a = "a", p = "/up";
    std::string names[] = {":method", ":scheme", ":authority", ":path"};
    nghttp2_nv nv[] = {
        {reinterpret_cast<uint8_t*>(names[0].data()), reinterpret_cast<uint8_t*>(m.data()), 7, 4, 0},
        {reinterpret_cast<uint8_t*>(names[1].data()), reinterpret_cast<uint8_t*>(sch.data()), 7, 4, 0},
        {reinterpret_cast<uint8_t*>(names[2].data()), reinterpret_cast<uint8_t*>(a.data()), 10, 1, 0},
        {reinterpret_cast<uint8_t*>(names[3].data()), reinterpret_cast<uint8_t*>(p.data()), 5, 3, 0},
    };
    const int32_t id = nghttp2_submit_request(c.s, nullptr, nv, 4, &dp, nullptr);
    exchange(c, srv);
    CHECK(srv.reqs[id].body.size() == 16384);  // one window, no more
    CHECK_FALSE(srv.reqs[id].ended);
    for (int i = 0; i < 10 && !srv.reqs[id].ended; ++i) {
        srv.codec.consume(id, srv.reqs[id].body.size() - (i == 0 ? 0 : 0));
        exchange(c, srv);
    }
    CHECK(srv.reqs[id].body.size() == 50000);
    CHECK(srv.reqs[id].ended);
}

TEST_CASE("h2 codec: rapid reset is cut off by the reset rate limit", "[h2]") {
    H2Settings st;
    st.reset_burst = 20;
    st.reset_rate = 1;
    Server srv;
    REQUIRE(srv.codec.start(st, {}, srv));
    Client c;
    std::string bytes = c.out();  // preface and SETTINGS
    for (int32_t id = 1; id < 400; id += 2) bytes += request_headers(id, true) + rst_stream(id);
    // In pieces, sending between them, as the server reads its socket.
    bool ok = true;
    for (size_t pos = 0; pos < bytes.size() && ok; pos += 1024) {
        const std::string piece = bytes.substr(pos, 1024);
        ok = srv.codec.receive(piece.data(), piece.size());
        std::string out;
        srv.codec.send(out, 1 << 20);
        c.in(out);
    }
    CHECK(srv.events[H2Event::reset_received] >= 20);
    CHECK(srv.events[H2Event::reset_received] < 200);  // not all of them: the connection went away first
    CHECK(srv.events[H2Event::limit_flood] == 1);
    CHECK(c.goaway);
    CHECK((!ok || srv.codec.finished()));
}

TEST_CASE("h2 codec: empty DATA frames and oversized heads are limited and counted", "[h2]") {
    H2Settings st;
    st.max_empty_frames = 10;
    st.max_header_list_bytes = 4096;
    Server srv;
    REQUIRE(srv.codec.start(st, {}, srv));
    Client c;
    const int32_t big = c.get({{"x-big", std::string(8000, 'x')}});
    exchange(c, srv);
    CHECK(srv.reqs[big].refused);
    CHECK(srv.reqs[big].refused_status == 431);
    CHECK(srv.events[H2Event::limit_header_list] == 1);

    const int32_t post = c.get({}, false);
    std::string bytes = c.out();
    for (int i = 0; i < 20; ++i) {
        const char empty_data[9] = {0, 0, 0, 0, 0, 0, 0, 0, static_cast<char>(post)};
        bytes.append(empty_data, 9);
    }
    srv.codec.receive(bytes.data(), bytes.size());
    std::string out;
    srv.codec.send(out, 1 << 20);
    c.in(out);
    CHECK(srv.events[H2Event::limit_flood] == 1);
    CHECK(c.goaway);
    CHECK(c.goaway_code == NGHTTP2_ENHANCE_YOUR_CALM);
}

TEST_CASE("h2 codec: streams over max_concurrent_streams are refused and counted", "[h2]") {
    H2Settings st;
    st.max_concurrent_streams = 2;
    Server srv;
    REQUIRE(srv.codec.start(st, {}, srv));
    Client c;
    exchange(c, srv);  // the SETTINGS are acknowledged: the limit is in force
    std::string bytes;
    for (int32_t id = 1; id <= 9; id += 2) bytes += request_headers(id, false);  // five open streams
    srv.codec.receive(bytes.data(), bytes.size());
    std::string out;
    srv.codec.send(out, 1 << 20);
    size_t requests = 0;
    for (auto& [id, r] : srv.reqs) requests += !r.method.empty();
    CHECK(requests == 2);
    // nghttp2 closes the connection (PROTOCOL_ERROR) once the SETTINGS are acknowledged: counted once, as the limit.
    CHECK(srv.events[H2Event::limit_streams] == 1);
    CHECK(srv.events[H2Event::protocol_error] == 0);
    c.in(out);
    CHECK(c.goaway);
    CHECK(c.goaway_code == NGHTTP2_PROTOCOL_ERROR);
}
