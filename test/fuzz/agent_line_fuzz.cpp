// Fuzzes the load agent's line parser (common/http/agent_line): the bytes a back end's agent sends. Invariants: it
// never reads past the input; a refused line reports nothing; an accepted one has a word of some kind and a
// percentage within 0..100; the answer depends only on the first line (bytes after the first LF change nothing);
// an input without LF is incomplete unless the agent closed, and closing never turns an ended line into another.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "http/agent_line.hpp"

using namespace dlba::http;

namespace {

bool same(const AgentLineResult& a, const AgentLineResult& b) {
    return a.error == b.error && a.report.percent == b.report.percent && a.report.health == b.report.health &&
           a.report.admin == b.report.admin;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const AgentLineResult open = parse_agent_line(input, false);
    const AgentLineResult closed = parse_agent_line(input, true);
    for (const AgentLineResult* r : {&open, &closed}) {
        if (r->ok()) {
            FUZZ_CHECK(r->report.percent || r->report.health || r->report.admin);
            if (r->report.percent) FUZZ_CHECK(*r->report.percent <= 100);
        } else {
            FUZZ_CHECK(!r->report.percent && !r->report.health && !r->report.admin);
        }
    }
    FUZZ_CHECK(closed.error != AgentLineError::incomplete);
    const size_t nl = input.find('\n');
    if (nl == std::string_view::npos) {
        FUZZ_CHECK(open.error == AgentLineError::incomplete || open.error == AgentLineError::too_long);
    } else {
        FUZZ_CHECK(same(open, closed));
        const std::string first(input.substr(0, nl + 1));
        FUZZ_CHECK(same(open, parse_agent_line(first, false)));
        FUZZ_CHECK(same(open, parse_agent_line(first + "maint 5%\n", false)));
    }
    return 0;
}
