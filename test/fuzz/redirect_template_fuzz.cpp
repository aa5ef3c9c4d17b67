// Fuzzes the redirect URL template (config/redirect_template.hpp): the parser on any bytes, and the expansion of
// what it accepts with request parts taken from the input. Input: "<template>\n<host>\n<port>\n<target>".
// Invariants: an accepted template starts with the scheme whatever the parts; expand() returns length(), writes
// nothing past the end nor into a buffer too small, and gives the template with each macro replaced (checked
// against a slow reference expansion).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "config/redirect_template.hpp"
#include "fuzz_check.hpp"

using namespace dlba;

namespace {

std::string_view take_line(std::string_view& in) {
    const size_t nl = in.find('\n');
    const std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    return line;
}

// The expansion done the slow, obvious way.
std::string reference(std::string_view source, const RedirectRequest& r) {
    std::string out;
    for (size_t i = 0; i < source.size(); ++i) {
        if (source[i] != '%') {
            out += source[i];
            continue;
        }
        switch (source[++i]) {
            case '%': out += '%'; break;
            case 'h': out += r.host; break;
            case 's': out += r.port; break;
            case 'd': out += r.path; break;
            case 'q': out += r.query; break;
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const std::string_view text = take_line(in);
    RedirectRequest r;
    r.host = take_line(in);
    r.port = take_line(in);
    const std::string_view target = take_line(in);
    split_target(target, r.path, r.query);
    FUZZ_CHECK(r.query.empty() || r.query.front() == '?');
    // Origin form: the path is the target after its first '/' up to the query ("//x" keeps "/x"), and the two
    // make the target again.
    if (!target.empty() && target.front() == '/') {
        FUZZ_CHECK(r.path.data() == target.data() + 1);
        FUZZ_CHECK(1 + r.path.size() + r.query.size() == target.size());
    }

    std::string why;
    const auto t = RedirectTemplate::parse(text, &why);
    if (!t) {
        FUZZ_CHECK(!why.empty());
        return 0;
    }
    FUZZ_CHECK(t->source() == text);
    const size_t n = t->length(r);
    std::vector<char> buf(n + 1, '#');
    FUZZ_CHECK(t->expand(r, {buf.data(), n}) == n);
    FUZZ_CHECK(buf[n] == '#');  // not one byte past the end
    const std::string got(buf.data(), n);
    FUZZ_CHECK(got == reference(text, r));
    if (n > 0) {
        std::vector<char> small(n - 1, '#');
        FUZZ_CHECK(t->expand(r, {small.data(), small.size()}) == n);
        FUZZ_CHECK(std::all_of(small.begin(), small.end(), [](char c) { return c == '#'; }));
    }
    // No request part can make the scheme: an accepted template starts with a literal "http" (in any case).
    FUZZ_CHECK(got.size() >= 7);
    for (size_t i = 0; i < 4; ++i) FUZZ_CHECK((got[i] | 0x20) == "http"[i]);
    // Parsing is a pure function of the text.
    const auto again = RedirectTemplate::parse(text, nullptr);
    FUZZ_CHECK(again && again->length(r) == n);
    return 0;
}
