// Fuzzes the upgrade path (http/upgrade.hpp and the response scanner's 101): a client's Upgrade value filtered by a
// service's allowed protocols (what is passed on is a list of valid, allowed elements without repeats, safe in a
// field value, and filtering it again changes nothing; a 101 naming exactly it is accepted), a back end's Upgrade
// value judged against it (accepted only when every element matches something offered), and the scanner over a
// back end's answer with and without an offer (a 101 completes only with an offer and an Upgrade field, and never
// has a body or keeps the connection for HTTP).
// Input: the first line is the client's Upgrade value, the second the back end's, the rest a response head.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "http/response_scanner.hpp"
#include "http/upgrade.hpp"

using namespace dlba::http;

namespace {

std::string_view next_line(std::string_view& in) {
    const size_t nl = in.find('\n');
    const std::string_view line = in.substr(0, nl);
    in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
    return line;
}

void check_scanner(std::string_view answer, bool offered) {
    ResponseHeadScanner s;
    s.start(false, offered);
    const ScanResult r = s.scan(answer.data(), answer.size());
    FUZZ_CHECK(r.consumed <= answer.size());
    if (r.status != ScanStatus::complete) return;
    const ResponseHead& h = s.head();
    if (!h.switching_protocols()) return;
    FUZZ_CHECK(offered);
    FUZZ_CHECK(find_header(h.headers, "upgrade") != nullptr);
    FUZZ_CHECK(h.framing == BodyFraming::none);
    FUZZ_CHECK(!h.keep_alive);
    FUZZ_CHECK(!h.informational());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const std::string_view client = next_line(in);
    const std::string_view backend = next_line(in);
    static const std::vector<std::string> kAllowed{"websocket", "h2c", "foo"};

    const std::vector<Header> request{{"Upgrade", client}};
    std::string offered;
    const size_t n = filter_upgrade(request, kAllowed, offered);
    FUZZ_CHECK((n == 0) == offered.empty());
    FUZZ_CHECK(is_field_value(offered));
    size_t elements = 0;
    for_each_list_element(offered, [&](std::string_view e) {
        if (offered.empty()) return true;
        const UpgradeProtocol p = parse_upgrade_protocol(e);
        FUZZ_CHECK(p.valid);
        FUZZ_CHECK(upgrade_allowed(p.name, kAllowed));
        ++elements;
        return true;
    });
    if (n > 0) FUZZ_CHECK(elements == n);
    std::string again;
    const std::vector<Header> passed{{"Upgrade", offered}};
    FUZZ_CHECK(filter_upgrade(passed, kAllowed, again) == n);
    FUZZ_CHECK(again == offered);
    if (n > 0) FUZZ_CHECK(upgrade_accepted(passed, offered));

    // The back end's answer: accepted only if each of its elements is valid and was offered by name.
    const std::vector<Header> answer{{"Upgrade", backend}};
    if (upgrade_accepted(answer, offered)) {
        FUZZ_CHECK(n > 0);
        for_each_list_element(backend, [&](std::string_view e) {
            const UpgradeProtocol got = parse_upgrade_protocol(e);
            FUZZ_CHECK(got.valid);
            bool named = false;
            for_each_list_element(offered, [&](std::string_view o) {
                named = named || iequals(parse_upgrade_protocol(o).name, got.name);
                return true;
            });
            FUZZ_CHECK(named);
            return true;
        });
    }

    check_scanner(in, false);
    check_scanner(in, true);
    return 0;
}
