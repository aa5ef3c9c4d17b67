// Fuzzes the request-side parsers that read client-controlled strings: the Cookie header (find, remove, SpServer
// validation), URL session ids and cookie dates. Input: "<name>\n<header>". Invariants: removal is complete and
// idempotent and keeps every other pair; a validated SpServer value is exactly a known key found in the header; a
// session id is a non-empty piece of the target that contains no separator.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "http/cookie.hpp"
#include "http/url_session.hpp"

using namespace dlba::http;

namespace {

size_t count_pairs(std::string_view header) {
    size_t n = 0;
    for_each_cookie(header, [&](const CookiePair&) { return ++n, true; });
    return n;
}

bool inside(std::string_view part, std::string_view whole) {
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    size_t nl = input.find('\n');
    std::string_view name = nl == std::string_view::npos ? std::string_view("SpServer") : input.substr(0, nl);
    std::string_view header = nl == std::string_view::npos ? input : input.substr(nl + 1);

    // Cookie header.
    auto found = find_cookie(header, name);
    if (found) FUZZ_CHECK(inside(*found, header));
    std::string removed_once, removed_twice;
    size_t removed = remove_cookie(header, name, removed_once);
    FUZZ_CHECK(removed_once.size() <= header.size() + count_pairs(header));
    FUZZ_CHECK(count_pairs(removed_once) + removed == count_pairs(header));
    FUZZ_CHECK(!found || removed > 0);
    FUZZ_CHECK(!find_cookie(removed_once, name).has_value() || name.empty());
    FUZZ_CHECK(remove_cookie(removed_once, name, removed_twice) == 0 || name.empty());
    FUZZ_CHECK(removed_twice == removed_once);

    const std::vector<std::string> keys = {"web1", "web2", std::string(name)};
    if (auto index = server_from_cookie_header(header, name, keys)) {
        FUZZ_CHECK(*index < keys.size());
        bool seen = false;
        for_each_cookie(header, [&](const CookiePair& p) {
            seen = seen || (p.name == name && p.value == keys[*index]);
            return true;
        });
        FUZZ_CHECK(seen);
    }

    // The same bytes as a request target.
    for (SessionIdIn where : {SessionIdIn::query, SessionIdIn::path}) {
        if (auto sid = find_session_id(header, name, where)) {
            FUZZ_CHECK(!sid->empty());
            FUZZ_CHECK(inside(*sid, header));
            FUZZ_CHECK(sid->find('#') == std::string_view::npos);
            FUZZ_CHECK(sid->find(where == SessionIdIn::query ? '&' : '/') == std::string_view::npos);
        }
    }

    // Cookie dates and Set-Cookie parsing on arbitrary text.
    if (auto t = parse_cookie_date(header)) FUZZ_CHECK(*t >= -11644473600LL);  // 1601-01-01
    if (auto c = parse_set_cookie(header)) {
        FUZZ_CHECK(!c->name.empty());
        FUZZ_CHECK(inside(c->name, header) && inside(c->value, header));
    }
    return 0;
}
