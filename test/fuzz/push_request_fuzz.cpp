// Fuzzes what the config port (failover.config_port, TCP) reads: the push/ADMIN request line as proto::parse reads
// it for Daemon::dlbad_config (PREPARE/COMMIT/ABORT, SHOW and ADMIN with their inner request), the PREPARE body's
// id (common/protocol/push.hpp config_id), and the reply lines and JSON answers dlbactl reads back
// (common/protocol/reply.*). Input: the request line, '\n', then the body (for PREPARE) which is also read as reply
// lines and as one JSON answer.
// Invariants: protocol_checks.hpp; a PREPARE/COMMIT/ABORT id is 16 lowercase hex digits; config_id() is 16 hex
// digits and changes whenever any single byte of the body changes (FNV-1a is a bijection per byte), so a body
// altered in flight never matches its id; ok_line/error_line are read back by read_reply_line as sent; a reply line
// is ok exactly when it is "OK" or starts with "OK ".
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/push.hpp"
#include "protocol/reply.hpp"
#include "protocol_checks.hpp"

using namespace dlba;

namespace {

bool hex16(std::string_view s) {
    return s.size() == 16 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

void check_reply_line(std::string_view line) {
    const io::Reply r = proto::read_reply_line(line);
    std::string_view bare = line;
    while (!bare.empty() && (bare.back() == '\n' || bare.back() == '\r')) bare.remove_suffix(1);
    FUZZ_CHECK(r.ok == (bare == "OK" || bare.substr(0, 3) == "OK "));
    FUZZ_CHECK(r.text.size() <= bare.size());
    if (bare.find('\n') != std::string_view::npos || bare.find('\r') != std::string_view::npos) return;
    for (bool ok : {true, false}) {
        const std::string sent = ok ? proto::ok_line(bare) : proto::error_line(bare);
        FUZZ_CHECK(!sent.empty() && sent.back() == '\n');
        const io::Reply back = proto::read_reply_line(sent);
        FUZZ_CHECK(back.ok == ok);
        FUZZ_CHECK(back.text == bare);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const size_t nl = input.find('\n');
    const std::string_view line = input.substr(0, nl);
    const std::string_view body = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);

    const proto::Parsed p = fuzz::check_line(line, proto::Daemon::dlbad_config);
    if (const auto* r = std::get_if<proto::Request>(&p)) {
        const proto::Verb v = r->verb;
        if (v == proto::Verb::prepare || v == proto::Verb::commit || v == proto::Verb::abort) {
            FUZZ_CHECK(hex16(r->config_id));
        }
    }

    const std::string id = proto::push::config_id(body);
    FUZZ_CHECK(hex16(id));
    FUZZ_CHECK(proto::push::config_id(body) == id);
    if (!body.empty()) {
        std::string altered(body);
        const size_t at = static_cast<size_t>(data[0]) % altered.size();
        altered[at] = static_cast<char>(altered[at] ^ (1 + (size & 0x7f)));
        FUZZ_CHECK(proto::push::config_id(altered) != id);
    }

    std::string_view rest = body;
    while (true) {
        const size_t eol = rest.find('\n');
        check_reply_line(rest.substr(0, eol == std::string_view::npos ? rest.size() : eol + 1));
        if (eol == std::string_view::npos) break;
        rest.remove_prefix(eol + 1);
    }
    if (const auto reply = proto::parse_reply(body)) {
        const io::Reply read = proto::read_reply(std::string(body));
        FUZZ_CHECK(read.ok == reply->ok && read.text == reply->text);
    }
    return 0;
}
