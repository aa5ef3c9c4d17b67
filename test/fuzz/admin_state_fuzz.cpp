// Fuzzes dlbad's admin state file reader (common/protocol/admin_state.* parse_admin_state): the file dlbad reads at
// every start and replays to the server and scheduler. Input: the file's bytes. Invariants:
//   - a refusal names a line within the file (or 0 for the file as a whole) and says why in one line;
//   - an accepted file holds only admin-state settings, formats to a file that is accepted again as the same state,
//     and that text is a fixed point (format(parse(format(s))) == format(s));
//   - every setting replays as a request dlbad's monitor socket takes, in canonical spelling.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "fuzz_check.hpp"
#include "protocol/admin_state.hpp"
#include "protocol/verbs.hpp"

using namespace dlba;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const proto::AdminStateParsed p = proto::parse_admin_state(text);
    if (const auto* e = std::get_if<proto::AdminStateError>(&p)) {
        FUZZ_CHECK(!e->message.empty());
        size_t lines = 0;
        for (char c : text) lines += c == '\n';
        FUZZ_CHECK(e->line <= lines + 1);
        const std::string why = e->str();
        // A quoted line is one line: the reader cuts lines at '\n'.
        FUZZ_CHECK(why.find('\n') == std::string::npos);
        return 0;
    }
    const proto::AdminState& s = std::get<proto::AdminState>(p);
    const std::string out = proto::format_admin_state(s);
    const proto::AdminStateParsed again = proto::parse_admin_state(out);
    const auto* s2 = std::get_if<proto::AdminState>(&again);
    FUZZ_CHECK(s2 != nullptr);
    FUZZ_CHECK(*s2 == s);
    FUZZ_CHECK(proto::format_admin_state(*s2) == out);
    for (const proto::Request& r : s.requests()) {
        FUZZ_CHECK(proto::is_admin_state(r.verb));
        const std::string line = proto::format(r);
        const proto::Parsed q = proto::parse(line, proto::Daemon::dlbad_monitor);
        const auto* r2 = std::get_if<proto::Request>(&q);
        FUZZ_CHECK(r2 != nullptr && proto::format(*r2) == line);
        FUZZ_CHECK(proto::serves(proto::spec(r.verb).served_by, proto::applied_by(r.verb)));
    }
    return 0;
}
