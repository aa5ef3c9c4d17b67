// Back-end choice per service policy, and the back-end state rules, with no sockets and an injected clock.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "policy/backend_state.hpp"
#include "policy/balancer.hpp"

using namespace dlba;
using namespace dlba::server;

namespace {

std::vector<BackendConfig> make_backends(size_t n) {
    std::vector<BackendConfig> out;
    for (size_t i = 0; i < n; ++i) {
        BackendConfig b;
        b.key = std::to_string(i + 1);
        b.address = 0x7f000001 + static_cast<uint32_t>(i);
        out.push_back(b);
    }
    return out;
}

ServiceConfig make_service(BalancePolicy policy, size_t n) {
    ServiceConfig s;
    s.name = "web";
    s.policy = policy;
    s.session_cookie = "JSESSIONID";
    for (size_t i = 0; i < n; ++i) s.backends.push_back(i);
    return s;
}

// A mutable view of n back ends; all usable, idle, weight 1 and without a response-time average at first.
struct View {
    explicit View(size_t n)
        : usable_new(new bool[n]), usable_sticky(new bool[n]), active(n, 0), weight(n, 1), average(n, -1.0), size(n) {
        for (size_t i = 0; i < n; ++i) usable_new[i] = usable_sticky[i] = true;
    }
    void down(size_t i) { usable_new[i] = usable_sticky[i] = false; }
    void drain(size_t i) { usable_new[i] = false; }
    Candidates candidates() const {
        return {{usable_new.get(), size}, {usable_sticky.get(), size}, active, weight, average};
    }
    std::unique_ptr<bool[]> usable_new, usable_sticky;  // span<const bool> needs contiguous bools
    std::vector<uint32_t> active, weight;
    std::vector<double> average;
    size_t size;
};

Choice pick(const Balancer& b, const View& v, std::string_view target, std::vector<http::Header> headers = {},
            uint32_t rotation = 0) {
    return b.choose({target, headers}, v.candidates(), rotation);
}

}  // namespace

TEST_CASE("a valid injected cookie sends the request to its back end", "[balancer][cookie]") {
    const auto backends = make_backends(3);
    const Balancer b(make_service(BalancePolicy::cookie, 3), backends);
    View v(3);
    for (uint32_t rotation = 0; rotation < 6; ++rotation) {
        const Choice c = pick(b, v, "/", {{"Cookie", "JSESSIONID=abc; SpServer=2"}}, rotation);
        REQUIRE(c.index);
        CHECK(*c.index == 1);
        CHECK(c.reason == ChoiceReason::cookie);
        CHECK_FALSE(c.force_cookie);
    }
    // The name is compared exactly (cookie names are case-sensitive), the value must be exactly a key.
    CHECK(pick(b, v, "/", {{"Cookie", "spserver=2"}}).reason == ChoiceReason::least_conn);
}

TEST_CASE("a cookie naming a back end that is down is rerouted and re-injected", "[balancer][cookie]") {
    const auto backends = make_backends(3);
    const Balancer b(make_service(BalancePolicy::cookie, 3), backends);
    View v(3);
    v.down(1);
    const Choice c = pick(b, v, "/", {{"Cookie", "SpServer=2"}});
    REQUIRE(c.index);
    CHECK(*c.index != 1);
    CHECK(c.reason == ChoiceReason::cookie_rerouted);
    CHECK(c.force_cookie);
}

TEST_CASE("unknown, tampered or quoted cookie values count as no cookie", "[balancer][cookie]") {
    const auto backends = make_backends(3);
    const Balancer b(make_service(BalancePolicy::cookie, 3), backends);
    View v(3);
    for (const char* cookie : {"SpServer=9", "SpServer=", "SpServer=\"2\"", "SpServer=2x", "SpServer=-1",
                               "SpServer=2 2", "SpServer", "=2", "SpServer=%32"}) {
        INFO(cookie);
        const Choice c = pick(b, v, "/", {{"Cookie", cookie}});
        CHECK(c.reason == ChoiceReason::least_conn);
        CHECK_FALSE(c.force_cookie);
        CHECK(c.index);
    }
}

TEST_CASE("with several injected cookies the first usable one decides", "[balancer][cookie]") {
    const auto backends = make_backends(3);
    const Balancer b(make_service(BalancePolicy::cookie, 3), backends);
    View v(3);
    v.down(0);
    // Same header, then split over two Cookie fields; an unknown value before them is skipped.
    Choice c = pick(b, v, "/", {{"Cookie", "SpServer=zz; SpServer=1; SpServer=3"}});
    REQUIRE(c.index);
    CHECK(*c.index == 2);
    CHECK(c.reason == ChoiceReason::cookie);
    c = pick(b, v, "/", {{"Cookie", "SpServer=1"}, {"X-Other", "SpServer=2"}, {"cookie", "SpServer=3"}});
    REQUIRE(c.index);
    CHECK(*c.index == 2);
    CHECK(c.reason == ChoiceReason::cookie);
}

TEST_CASE("a draining back end keeps its cookie sessions but gets no new ones", "[balancer][cookie]") {
    const auto backends = make_backends(2);
    const Balancer b(make_service(BalancePolicy::cookie, 2), backends);
    View v(2);
    v.drain(0);
    const Choice sticky = pick(b, v, "/", {{"Cookie", "SpServer=1"}});
    REQUIRE(sticky.index);
    CHECK(*sticky.index == 0);
    for (uint32_t rotation = 0; rotation < 4; ++rotation) {
        const Choice fresh = pick(b, v, "/", {}, rotation);
        REQUIRE(fresh.index);
        CHECK(*fresh.index == 1);
    }
}

TEST_CASE("the cookie policy's fallback decides requests without a cookie", "[balancer][cookie]") {
    const auto backends = make_backends(3);
    ServiceConfig s = make_service(BalancePolicy::cookie, 3);
    s.fallback = BalancePolicy::url_hash;
    const Balancer b(s, backends);
    View v(3);
    const Choice first = pick(b, v, "/page");
    REQUIRE(first.index);
    CHECK(first.reason == ChoiceReason::url_hash);
    for (uint32_t rotation = 0; rotation < 5; ++rotation) CHECK(pick(b, v, "/page", {}, rotation).index == first.index);
}

TEST_CASE("a URL session id maps to the same back end on every node", "[balancer][url_session]") {
    const auto backends = make_backends(4);
    ServiceConfig s = make_service(BalancePolicy::url_session, 4);
    s.url_session_param = "sid";
    const Balancer b(s, backends);
    // Another node lists the back ends in another order: the answer names the same back end.
    ServiceConfig reversed = s;
    reversed.backends = {3, 2, 1, 0};
    const Balancer other(reversed, backends);
    View v(4);
    std::set<size_t> used;
    for (int i = 0; i < 40; ++i) {
        const std::string sid = "S" + std::to_string(i * 7919);
        const Choice c = pick(b, v, "/cart?x=1&sid=" + sid);
        REQUIRE(c.index);
        CHECK(c.reason == ChoiceReason::session_id);
        CHECK(pick(b, v, "/other/page?sid=" + sid, {}, 3).index == c.index);  // the id decides, not the path
        const Choice o = pick(other, v, "/cart?sid=" + sid);
        REQUIRE(o.index);
        CHECK(other.key(*o.index) == b.key(*c.index));
        used.insert(*c.index);
    }
    CHECK(used.size() == 4);
    // No id: the fallback (least connections by default).
    CHECK(pick(b, v, "/cart?sidx=1").reason == ChoiceReason::least_conn);
}

TEST_CASE("a path-parameter session id is found and a down back end loses only its own ids", "[balancer][url_session]") {
    const auto backends = make_backends(3);
    ServiceConfig s = make_service(BalancePolicy::url_session, 3);
    s.url_session_param = "jsessionid";
    s.url_session_in = SessionIdPlace::path;
    const Balancer b(s, backends);
    View v(3);
    std::map<std::string, size_t> before;
    for (int i = 0; i < 60; ++i) {
        const std::string id = "id" + std::to_string(i);
        const Choice c = pick(b, v, "/app/page.jsp;jsessionid=" + id + "?q=1");
        REQUIRE(c.index);
        CHECK(c.reason == ChoiceReason::session_id);
        before[id] = *c.index;
    }
    v.down(1);
    for (const auto& [id, index] : before) {
        const Choice c = pick(b, v, "/app/page.jsp;jsessionid=" + id);
        REQUIRE(c.index);
        if (index != 1) CHECK(*c.index == index);
        CHECK(*c.index != 1);
    }
}

TEST_CASE("URL hashing sends each URL to one back end and spreads a page's URLs", "[balancer][url_hash]") {
    const auto backends = make_backends(3);
    const Balancer b(make_service(BalancePolicy::url_hash, 3), backends);
    View v(3);
    std::map<size_t, int> count;
    for (int i = 0; i < 3000; ++i) {
        const std::string url = "/img/" + std::to_string(i) + ".gif";
        const Choice c = pick(b, v, url, {}, static_cast<uint32_t>(i));
        REQUIRE(c.index);
        CHECK(c.reason == ChoiceReason::url_hash);
        CHECK(pick(b, v, url, {}, 77).index == c.index);
        ++count[*c.index];
    }
    REQUIRE(count.size() == 3);
    for (const auto& [index, n] : count) CHECK(n > 800);  // about 1000 each
}

TEST_CASE("removing or adding one of N back ends moves about 1/N of the URLs and no others", "[balancer][url_hash]") {
    constexpr size_t n = 5;
    constexpr int urls = 5000;
    const auto backends = make_backends(n + 1);
    const Balancer with_n(make_service(BalancePolicy::url_hash, n), backends);
    const Balancer with_more(make_service(BalancePolicy::url_hash, n + 1), backends);
    View v(n), v_more(n + 1), v_less(n);
    v_less.down(2);
    int moved_on_remove = 0, moved_on_add = 0;
    for (int i = 0; i < urls; ++i) {
        const std::string url = "/object/" + std::to_string(i);
        const size_t a = *pick(with_n, v, url).index;
        const size_t removed = *pick(with_n, v_less, url).index;
        const size_t added = *pick(with_more, v_more, url).index;
        if (removed != a) {
            ++moved_on_remove;
            CHECK(a == 2);  // only the removed back end's URLs move
        }
        if (added != a) {
            ++moved_on_add;
            CHECK(added == n);  // a URL moves only to the new back end
        }
    }
    CHECK(moved_on_remove == Approx(urls / n).epsilon(0.15));
    CHECK(moved_on_add == Approx(urls / (n + 1)).epsilon(0.15));
}

TEST_CASE("bounded-load URL hashing moves a URL off a back end only while it is over the bound", "[balancer][url_hash]") {
    const auto backends = make_backends(3);
    ServiceConfig s = make_service(BalancePolicy::url_hash, 3);
    s.hash_bound_load = 1.25;
    const Balancer b(s, backends);
    View v(3);
    const size_t home = *pick(b, v, "/hot").index;
    v.active[home] = 10;  // far over 1.25 x its share of 10 in flight
    const Choice c = pick(b, v, "/hot");
    REQUIRE(c.index);
    CHECK(*c.index != home);
    v.active[home] = 0;
    CHECK(*pick(b, v, "/hot").index == home);
}

TEST_CASE("least connections weighs open connections by weight and takes turns on ties", "[balancer][least_conn]") {
    const auto backends = make_backends(3);
    const Balancer b(make_service(BalancePolicy::least_conn, 3), backends);
    View v(3);
    v.active = {4, 1, 2};
    CHECK(*pick(b, v, "/").index == 1);
    v.weight = {4, 1, 1};  // (4+1)/4 < (1+1)/1
    CHECK(*pick(b, v, "/").index == 0);
    v.weight = {1, 1, 1};
    v.active = {0, 0, 0};
    std::set<size_t> seen;
    for (uint32_t rotation = 0; rotation < 3; ++rotation) seen.insert(*pick(b, v, "/", {}, rotation).index);
    CHECK(seen.size() == 3);
    v.weight = {0, 1, 1};  // weight 0 is never chosen
    v.active = {0, 5, 5};
    for (uint32_t rotation = 0; rotation < 3; ++rotation) CHECK(*pick(b, v, "/", {}, rotation).index != 0);
}

TEST_CASE("response-time balancing prefers fast back ends and probes unmeasured ones", "[balancer][response_time]") {
    const auto backends = make_backends(3);
    const Balancer b(make_service(BalancePolicy::response_time, 3), backends);
    View v(3);
    v.average = {50.0, 5.0, 20.0};
    Choice c = pick(b, v, "/");
    CHECK(*c.index == 1);
    CHECK(c.reason == ChoiceReason::response_time);
    v.active = {0, 20, 0};  // the fast one is busy: (5+1)*21 > (20+1)*1
    CHECK(*pick(b, v, "/").index == 2);
    v.average = {50.0, 5.0, -1.0};  // never measured: tried first
    v.active = {0, 0, 0};
    CHECK(*pick(b, v, "/").index == 2);
}

TEST_CASE("no usable back end gives no choice", "[balancer]") {
    const auto backends = make_backends(2);
    for (BalancePolicy p : {BalancePolicy::cookie, BalancePolicy::url_hash, BalancePolicy::least_conn,
                            BalancePolicy::response_time, BalancePolicy::url_session}) {
        ServiceConfig s = make_service(p, 2);
        s.url_session_param = "sid";
        const Balancer b(s, backends);
        View v(2);
        v.down(0);
        v.down(1);
        const Choice c = pick(b, v, "/x?sid=1", {{"Cookie", "SpServer=1"}});
        CHECK_FALSE(c.index);
        CHECK_FALSE(c.force_cookie);
    }
}

TEST_CASE("a back end marked down comes back after its interval or on success", "[backend_state]") {
    BackendConfig cfg;
    cfg.key = "a";
    BackendState s(cfg);
    CHECK(s.status(1000) == BackendStatus::up);
    CHECK(s.usable_for_new(1000));
    s.mark_down(1000, 500);
    CHECK(s.status(1000) == BackendStatus::down);
    CHECK(s.status(1499) == BackendStatus::down);
    CHECK_FALSE(s.usable_for_new(1499));
    CHECK_FALSE(s.usable_for_sticky(1499));
    CHECK(s.status(1500) == BackendStatus::up);  // the next request is the probe
    s.mark_down(2000, 500);
    s.mark_up();
    CHECK(s.status(2000) == BackendStatus::up);
}

TEST_CASE("admin state and weight decide what a back end may take", "[backend_state]") {
    BackendConfig cfg;
    cfg.key = "a";
    cfg.enabled = false;
    BackendState s(cfg);
    CHECK(s.status(0) == BackendStatus::disabled);
    CHECK_FALSE(s.usable_for_new(0));
    CHECK_FALSE(s.usable_for_sticky(0));
    s.set_admin(BackendAdmin::drain);
    CHECK(s.status(0) == BackendStatus::drain);
    CHECK_FALSE(s.usable_for_new(0));
    CHECK(s.usable_for_sticky(0));
    s.set_admin(BackendAdmin::enabled);
    CHECK(s.usable_for_new(0));
    s.set_weight(0);
    CHECK_FALSE(s.usable_for_new(0));
    CHECK(s.usable_for_sticky(0));
    CHECK(std::string(backend_status_name(BackendStatus::drain)) == "drain");
}

TEST_CASE("open connections and the response-time average", "[backend_state]") {
    BackendConfig cfg;
    cfg.key = "a";
    BackendState s(cfg);
    s.begin_request();
    s.begin_request();
    s.end_request();
    CHECK(s.active() == 1);
    CHECK(s.average_ms() < 0);
    s.record_response_time(80);
    CHECK(s.average_ms() == Approx(80));
    s.record_response_time(0);
    CHECK(s.average_ms() == Approx(70));  // alpha = 1/8
}

namespace {

Choice pick_tls(const Balancer& b, const View& v, std::string_view target, std::string_view bound,
                uint32_t rotation = 0, bool tls = true) {
    return b.choose({target, {}, tls, bound}, v.candidates(), rotation);
}

}  // namespace

TEST_CASE("tls_session: a secure request of a bound session goes to its back end; the first one binds by the "
          "fallback; others are balanced one by one",
          "[balancer][tls_session]") {
    const auto backends = make_backends(3);
    ServiceConfig s = make_service(BalancePolicy::tls_session, 3);
    s.tls_session_paths = {"/checkout/", "/cart"};
    const Balancer b(s, backends);
    View v(3);

    const Choice first = pick_tls(b, v, "/checkout/pay", "", 1);
    REQUIRE(first.index);
    CHECK(*first.index == 1);  // least_conn, ties from the rotation
    CHECK(first.reason == ChoiceReason::least_conn);
    CHECK(first.tls_bind == TlsBind::bind);

    v.active = {0, 5, 0};  // busier than the others: the binding still wins
    const Choice bound = pick_tls(b, v, "/cart?x=1", "2", 2);
    CHECK(bound.index == std::optional<size_t>(1));
    CHECK(bound.reason == ChoiceReason::tls_session);
    CHECK(bound.tls_bind == TlsBind::keep);

    const Choice other = pick_tls(b, v, "/catalog/", "2", 0);  // not a secure path: per request
    CHECK(other.index != std::optional<size_t>(1));
    CHECK(other.tls_bind == TlsBind::keep);
    CHECK(other.reason == ChoiceReason::least_conn);

    const Choice plain = pick_tls(b, v, "/checkout/pay", "", 0, false);  // plain HTTP: no session to bind
    CHECK(plain.tls_bind == TlsBind::keep);
    CHECK(plain.reason == ChoiceReason::least_conn);
}

TEST_CASE("tls_session: a bound back end that is down, disabled or unknown rebinds by the fallback; draining keeps "
          "it",
          "[balancer][tls_session]") {
    const auto backends = make_backends(3);
    const Balancer b(make_service(BalancePolicy::tls_session, 3), backends);  // no paths: every request is secure
    View v(3);
    v.drain(0);
    CHECK(pick_tls(b, v, "/", "1").reason == ChoiceReason::tls_session);  // drain keeps its sessions
    v.down(0);
    const Choice moved = pick_tls(b, v, "/", "1");
    REQUIRE(moved.index);
    CHECK(*moved.index != 0);
    CHECK(moved.tls_bind == TlsBind::rebind);
    const Choice unknown = pick_tls(b, v, "/", "web9");  // a key not (or no longer) in the service
    CHECK(unknown.tls_bind == TlsBind::rebind);
    v.down(1);
    v.down(2);
    const Choice none = pick_tls(b, v, "/", "1");
    CHECK_FALSE(none.index);  // nothing can take it: 503, and the binding stays as it was
    CHECK(none.tls_bind == TlsBind::keep);
    CHECK(std::string(choice_reason_name(ChoiceReason::tls_session)) == "tls_session");
}

TEST_CASE("tls_session under TLS 1.2: the handshake's choice follows the fallback's load rule", "[balancer][tls_session]") {
    const auto backends = make_backends(3);
    ServiceConfig s = make_service(BalancePolicy::tls_session, 3);
    s.fallback = BalancePolicy::url_hash;  // no target in a handshake: least connections
    const Balancer b(s, backends);
    View v(3);
    v.active = {4, 1, 3};
    CHECK(b.choose_unbound(v.candidates(), 0) == std::optional<size_t>(1));
    v.down(1);
    CHECK(b.choose_unbound(v.candidates(), 0) == std::optional<size_t>(2));
    CHECK(b.find_key("3") == std::optional<size_t>(2));
    CHECK_FALSE(b.find_key("4"));
}

TEST_CASE("round_robin: every sum-of-weights turns give each back end exactly its weight, interleaved",
          "[policy][round_robin]") {
    const auto backends = make_backends(3);
    const Balancer b(make_service(BalancePolicy::round_robin, 3), backends);
    View v(3);
    v.weight = {2, 1, 1};
    // From any starting turn, 4 consecutive turns are 2:1:1 and web1 never gets two in a row within them.
    for (uint32_t start : {0u, 1u, 7u, 4000000000u}) {
        std::map<size_t, int> got;
        std::vector<size_t> seq;
        for (uint32_t r = start; r != start + 400; ++r) {
            const Choice c = pick(b, v, "/", {}, r);
            REQUIRE(c.index);
            CHECK(c.reason == ChoiceReason::round_robin);
            ++got[*c.index];
            seq.push_back(*c.index);
        }
        CHECK(got[0] == 200);
        CHECK(got[1] == 100);
        CHECK(got[2] == 100);
        for (size_t i = 2; i < seq.size(); ++i) CHECK_FALSE((seq[i] == 0 && seq[i - 1] == 0 && seq[i - 2] == 0));
    }
    // An unusable back end's share goes to the others, in proportion; weight 0 gets nothing.
    v.down(0);
    std::map<size_t, int> got;
    for (uint32_t r = 0; r < 100; ++r) ++got[*pick(b, v, "/", {}, r).index];
    CHECK(got[0] == 0);
    CHECK(got[1] == 50);
    CHECK(got[2] == 50);
    v.weight = {2, 0, 0};
    CHECK_FALSE(pick(b, v, "/", {}, 3).index);  // the only weighted one is down
}

TEST_CASE("round_robin as the cookie policy's fallback: new sessions by weight, cookies kept", "[policy][round_robin]") {
    const auto backends = make_backends(2);
    ServiceConfig s = make_service(BalancePolicy::cookie, 2);
    s.fallback = BalancePolicy::round_robin;
    const Balancer b(s, backends);
    View v(2);
    v.weight = {3, 1};
    int first = 0;
    for (uint32_t r = 0; r < 40; ++r) first += *pick(b, v, "/", {}, r).index == 0;
    CHECK(first == 30);
    const Choice c = pick(b, v, "/", {{"Cookie", "SpServer=2"}}, 0);
    CHECK(c.index == std::optional<size_t>(1));
    CHECK(c.reason == ChoiceReason::cookie);
}

TEST_CASE("a valid pin wins over every policy while its back end can take the request", "[balancer][pin]") {
    const auto backends = make_backends(3);
    for (BalancePolicy p : {BalancePolicy::url_hash, BalancePolicy::cookie, BalancePolicy::least_conn,
                            BalancePolicy::round_robin, BalancePolicy::url_session}) {
        ServiceConfig s = make_service(p, 3);
        s.url_session_param = "sid";
        const Balancer b(s, backends);
        View v(3);
        for (uint32_t r = 0; r < 6; ++r) {
            const std::vector<http::Header> h{{"Cookie", "SpServer=1"}};
            RequestKeys keys{"/banking/x?sid=7", h};
            keys.pinned = 2;
            const Choice c = b.choose(keys, v.candidates(), r);
            REQUIRE(c.index);
            CHECK(*c.index == 2);
            CHECK(c.reason == ChoiceReason::pin);
            CHECK_FALSE(c.force_cookie);
        }
        // Draining: still takes the requests that name it.
        v.drain(2);
        RequestKeys keys{"/banking/x", {}};
        keys.pinned = 2;
        CHECK(b.choose(keys, v.candidates(), 0).reason == ChoiceReason::pin);
        // Down: the policy decides (the answer re-pins).
        v.down(2);
        const Choice moved = b.choose(keys, v.candidates(), 0);
        REQUIRE(moved.index);
        CHECK(*moved.index != 2);
        CHECK(moved.reason != ChoiceReason::pin);
        // A stale index (the service shrank) is no pin at all.
        keys.pinned = 7;
        CHECK(b.choose(keys, View(3).candidates(), 0).reason != ChoiceReason::pin);
    }
    CHECK(std::string(choice_reason_name(ChoiceReason::pin)) == "pin");
}
