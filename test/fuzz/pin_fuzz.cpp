// Fuzzes the stateful-URI pin's reading of network input (dlba_server/policy/pin.cpp): a client's Cookie header,
// each cookie value, and the request target the pin matches. Input: the first line is a target, the rest a Cookie
// header value. Table: service "bank" with back ends web1, web.2, 3 and pin.secret = 32 bytes of 0x11 (as
// make_pin_corpus.py). Invariants: a valid pin names one of the back ends, and its value is exactly that back end's
// and appears in the input; decoding each value the table makes gives its back end; a value changed in any byte is
// invalid; the pin cookie is gone from the header the back end would get, and every other cookie is kept; the pin
// path is a piece of the target (or "/"); nothing reads outside the input (ASan).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "http/cookie.hpp"
#include "policy/pin.hpp"

using namespace dlba;
using namespace dlba::server;

namespace {

PinPattern pattern(std::string text) {
    PinPattern p;
    p.prefix = text.back() == '*';
    p.literal = p.prefix ? text.substr(0, text.size() - 1) : text;
    p.text = std::move(text);
    return p;
}

const PinTable& table() {
    static const PinTable t = [] {
        std::vector<BackendConfig> backends(3);
        backends[0].key = "web1";
        backends[1].key = "web.2";
        backends[2].key = "3";
        ServiceConfig s;
        s.name = "bank";
        s.backends = {0, 1, 2};
        s.pin.enabled = true;
        s.pin.entry = {pattern("/banking/*"), pattern("/loans/start")};
        s.pin.exit = {pattern("/banking/logout")};
        s.pin.secret.emplace();
        s.pin.secret->fill(0x11);
        return PinTable(s, backends, derive_pin_key(s.pin, {}));
    }();
    return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const PinTable& t = table();
    FUZZ_CHECK(t.enabled());
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const size_t nl = input.find('\n');
    const std::string_view target = input.substr(0, nl);
    const std::string_view header = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);

    const std::string_view path = pin_path(target);
    // A piece of the target, or "/" for an absolute-form target without a path.
    FUZZ_CHECK(path.empty() || path == "/" ||
               (path.data() >= target.data() && path.data() + path.size() <= target.data() + target.size()));
    FUZZ_CHECK(path.empty() || path.front() == '/');
    FUZZ_CHECK(path.find_first_of("?#") == std::string_view::npos);
    const PinMatch m = t.match(target);
    FUZZ_CHECK(!m.exit || m.applies());
    FUZZ_CHECK(!m.applies() || m.entry < 2);

    const PinLookup l = t.lookup(header);
    if (l.found == PinFound::valid) {
        FUZZ_CHECK(l.index < 3);
        FUZZ_CHECK(header.find(t.value(l.index)) != std::string_view::npos);
    }
    const PinLookup d = t.decode(header);  // the whole rest as one value
    if (d.found == PinFound::valid) FUZZ_CHECK(header == t.value(d.index));
    for (size_t i = 0; i < 3; ++i) {
        const std::string v(t.value(i));
        const PinLookup self = t.decode(v);
        FUZZ_CHECK(self.found == PinFound::valid && self.index == i);
        if (!header.empty()) {  // one byte of it changed by the input
            std::string changed = v;
            const size_t at = static_cast<unsigned char>(header[0]) % changed.size();
            const char c = header.size() > 1 ? header[1] : 'x';
            if (changed[at] != c) {
                changed[at] = c;
                FUZZ_CHECK(t.decode(changed).found != PinFound::valid);
            }
        }
    }

    std::string stripped;
    const size_t removed = http::remove_cookies(header, {"SpServer", t.cookie_name()}, stripped);
    size_t kept = 0, pins = 0;
    http::for_each_cookie(stripped, [&](const http::CookiePair& p) {
        FUZZ_CHECK(p.name != t.cookie_name() && p.name != "SpServer");
        ++kept;
        return true;
    });
    size_t total = 0;
    http::for_each_cookie(header, [&](const http::CookiePair& p) {
        ++total;
        pins += p.name == t.cookie_name() || p.name == "SpServer";
        return true;
    });
    FUZZ_CHECK(removed == pins);
    // A kept piece may itself hold no cookie once rejoined (never: pieces are trimmed and non-empty), so the counts add.
    FUZZ_CHECK(kept + removed == total);
    if (l.found == PinFound::none) FUZZ_CHECK(http::find_cookie(header, t.cookie_name()) == std::nullopt);
    return 0;
}
