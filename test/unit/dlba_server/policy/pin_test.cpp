// Stateful-URI pins (policy/pin.hpp): which paths a pin covers, the cookie's value and its tag, the Set-Cookie
// values, with no sockets.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "policy/pin.hpp"

using namespace dlba;
using namespace dlba::server;

namespace {

PinPattern pattern(std::string text) {
    PinPattern p;
    p.prefix = !text.empty() && text.back() == '*';
    p.literal = p.prefix ? text.substr(0, text.size() - 1) : text;
    p.text = std::move(text);
    return p;
}

std::vector<BackendConfig> backends() {
    std::vector<BackendConfig> out;
    for (const char* k : {"web1", "web.2", "3"}) {
        BackendConfig b;
        b.key = k;
        out.push_back(b);
    }
    return out;
}

ServiceConfig service(const std::string& name = "bank") {
    ServiceConfig s;
    s.name = name;
    s.backends = {0, 1, 2};
    s.pin.enabled = true;
    s.pin.entry = {pattern("/banking/*"), pattern("/loans/start")};
    s.pin.exit = {pattern("/banking/logout")};
    s.pin.max_age_s = 1800;
    return s;
}

PinKey secret_key(uint8_t fill) {
    PinConfig c;
    c.secret.emplace();
    c.secret->fill(fill);
    return derive_pin_key(c, {});
}

}  // namespace

TEST_CASE("the pin path is the target's path, origin- or absolute-form", "[pin]") {
    CHECK(pin_path("/banking/a?x=1#f") == "/banking/a");
    CHECK(pin_path("/banking/a#f?x") == "/banking/a");
    CHECK(pin_path("http://bank.example/banking/a?q") == "/banking/a");
    CHECK(pin_path("https://bank.example") == "/");
    CHECK(pin_path("http://bank.example?x") == "/");
    CHECK(pin_path("*") == "");
    CHECK(pin_path("") == "");
}

TEST_CASE("entries and exits: first matching entry, exits only below an entry", "[pin]") {
    const PinTable t(service(), backends(), secret_key(1));
    REQUIRE(t.enabled());
    CHECK(t.match("/banking/").entry == 0);
    CHECK(t.match("/banking/acct?id=1").entry == 0);
    CHECK_FALSE(t.match("/banking/acct").exit);
    const PinMatch logout = t.match("/banking/logout?bye");
    CHECK(logout.entry == 0);
    CHECK(logout.exit);
    CHECK_FALSE(t.match("/banking/logout/more").exit);  // exact
    CHECK(t.match("/loans/start").entry == 1);
    CHECK_FALSE(t.match("/loans/start2").applies());
    CHECK_FALSE(t.match("/banking").applies());
    CHECK_FALSE(t.match("/BANKING/x").applies());
    CHECK_FALSE(t.match("/").applies());
    CHECK_FALSE(t.match("*").applies());
    // A disabled table covers nothing.
    ServiceConfig off = service();
    off.pin.enabled = false;
    CHECK_FALSE(PinTable(off, backends(), secret_key(1)).match("/banking/x").applies());
}

TEST_CASE("values: the key, a dot, 24 hex digits; the same on every node, keyed by secret and service", "[pin]") {
    const PinTable a(service(), backends(), secret_key(1));
    const PinTable again(service(), backends(), secret_key(1));  // another node, same configuration
    const PinTable other_secret(service(), backends(), secret_key(2));
    const PinTable other_service(service("loans"), backends(), secret_key(1));
    for (size_t i = 0; i < 3; ++i) {
        const std::string v(a.value(i));
        const std::string key = backends()[i].key;
        CHECK(v.substr(0, key.size() + 1) == key + ".");
        CHECK(v.size() == key.size() + 1 + kPinTagHex);
        CHECK(v.find_first_not_of("0123456789abcdef", key.size() + 1) == std::string::npos);
        CHECK(again.value(i) == v);
        CHECK(other_secret.value(i) != v);
        CHECK(other_service.value(i) != v);
    }
}

TEST_CASE("decode: exact values are valid, anything else is invalid", "[pin]") {
    const PinTable t(service(), backends(), secret_key(1));
    for (size_t i = 0; i < 3; ++i) {
        const PinLookup l = t.decode(t.value(i));
        CHECK(l.found == PinFound::valid);
        CHECK(l.index == i);
    }
    const std::string good(t.value(1));  // "web.2.<tag>": a key holding a dot
    std::string flipped = good;
    flipped.back() = flipped.back() == '0' ? '1' : '0';
    std::string swapped = "web1" + good.substr(good.rfind('.'));  // another back end's key under this tag
    for (const std::string& bad :
         {std::string(), std::string("web1"), std::string("web1."), good.substr(0, good.size() - 1), good + "0",
          flipped, swapped, std::string("\"") + good + "\"", std::string("web9") + good.substr(good.rfind('.')),
          std::string(".") + good.substr(good.rfind('.') + 1)}) {
        CAPTURE(bad);
        CHECK(t.decode(bad).found == PinFound::invalid);
    }
    // Another secret's (or another array's) value.
    const PinTable other(service(), backends(), secret_key(2));
    CHECK(t.decode(other.value(0)).found == PinFound::invalid);
}

TEST_CASE("lookup over Cookie: the first valid pin wins; only bad ones count as invalid", "[pin]") {
    const PinTable t(service(), backends(), secret_key(1));
    const std::string v0(t.value(0)), v2(t.value(2));
    CHECK(t.lookup("").found == PinFound::none);
    CHECK(t.lookup("a=1; SpServer=web1; spPin=" + v0).found == PinFound::none);  // names are case-sensitive
    PinLookup l = t.lookup("a=1; SpPin=" + v2 + "; b=2");
    CHECK(l.found == PinFound::valid);
    CHECK(l.index == 2);
    l = t.lookup("SpPin=junk; SpPin=" + v0);  // another path's stale pin first
    CHECK(l.found == PinFound::valid);
    CHECK(l.index == 0);
    l = t.lookup("SpPin=" + v0 + "; SpPin=" + v2);
    CHECK(l.index == 0);
    CHECK(t.lookup("SpPin=junk; x=y").found == PinFound::invalid);
    CHECK(t.lookup("SpPin=").found == PinFound::invalid);
}

TEST_CASE("Set-Cookie: Path is the entry's directory, Secure under TLS, Max-Age 0 to end", "[pin]") {
    const PinTable t(service(), backends(), secret_key(1));
    std::string out = "leftover";
    t.write_pin(t.match("/banking/acct"), 0, false, out);
    CHECK(out == "SpPin=" + std::string(t.value(0)) + "; Path=/banking/; Max-Age=1800; HttpOnly");
    t.write_pin(t.match("/loans/start"), 2, true, out);
    CHECK(out == "SpPin=" + std::string(t.value(2)) + "; Path=/loans/; Max-Age=1800; HttpOnly; Secure");
    t.write_unpin(t.match("/banking/logout"), true, out);
    CHECK(out == "SpPin=; Path=/banking/; Max-Age=0; HttpOnly; Secure");
    // Warm: writing again keeps the capacity (no allocation on the request path).
    out.reserve(256);
    const char* before = out.data();
    t.write_pin(t.match("/banking/acct"), 1, true, out);
    CHECK(out.data() == before);
}

TEST_CASE("the pin key: the secret, else derived from the first peer key, else public", "[pin]") {
    PinConfig c;
    CHECK(derive_pin_key(c, {}).source == PinKeySource::public_key);
    auth::PeerKey p;
    p.bytes.fill(7);
    const PinKey from_peer = derive_pin_key(c, auth::KeyRing({p}));
    CHECK(from_peer.source == PinKeySource::peer_key);
    CHECK(from_peer.key.bytes != p.bytes);  // derived, never the peer key itself
    c.secret.emplace();
    c.secret->fill(9);
    const PinKey s = derive_pin_key(c, auth::KeyRing({p}));
    CHECK(s.source == PinKeySource::secret);
    CHECK(s.key.bytes == *c.secret);
    CHECK(std::string(pin_key_source_name(PinKeySource::peer_key)) == "peer_key");
}
