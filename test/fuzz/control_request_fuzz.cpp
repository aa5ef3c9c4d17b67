// Fuzzes the control-socket request parser (common/protocol/request.* proto::parse) as each daemon's socket reads
// it (the scheduler's control socket, the server's and dlbad's monitor sockets, the table-sync port), and
// dlbactl's command words (parse_command, every access class). Input: one byte choosing the reader (the four
// daemons' sockets, then dlbactl with no access class, read-only, admin), then lines separated by '\n', each
// parsed by that reader. (Until 2026-12-02 every line went through all seven readers: seven times the work per
// input for the same checks, 115 runs/s under ASan.) Invariants: protocol_checks.hpp, and a dlbactl command
// formats to a request some daemon serves.
#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>
#include <vector>

#include "protocol_checks.hpp"

using namespace dlba;

namespace {

void check_command(std::string_view line, std::optional<proto::Access> access) {
    const std::vector<std::string_view> words = io::split_words(line);
    const proto::Parsed p = proto::parse_command(words, access);
    if (const auto* e = std::get_if<proto::ParseError>(&p)) {
        FUZZ_CHECK(!e->message.empty());
        FUZZ_CHECK((e->kind == proto::ParseError::Kind::empty) == words.empty());
        return;
    }
    const auto& r = std::get<proto::Request>(p);
    FUZZ_CHECK(proto::spec(r.verb).offered);
    if (access) FUZZ_CHECK(proto::access_of(r) == *access);
    const std::string text = proto::format(r);
    bool served = false;
    for (size_t d = 0; d < proto::kDaemons; ++d) {
        if (!proto::serves(proto::spec(r.verb).served_by, static_cast<proto::Daemon>(d))) continue;
        const proto::Parsed wire = fuzz::check_line(text, static_cast<proto::Daemon>(d));
        const auto* w = std::get_if<proto::Request>(&wire);
        FUZZ_CHECK(w != nullptr && proto::format(*w) == text);
        served = true;
    }
    FUZZ_CHECK(served);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    constexpr proto::Daemon kSockets[] = {proto::Daemon::scheduler, proto::Daemon::server,
                                          proto::Daemon::dlbad_monitor, proto::Daemon::sync_port};
    constexpr size_t kReaders = std::size(kSockets) + 3;
    const size_t reader = data[0] % kReaders;
    std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    while (true) {
        const size_t nl = input.find('\n');
        const std::string_view line = input.substr(0, nl);
        if (reader < std::size(kSockets)) {
            fuzz::check_line(line, kSockets[reader]);
        } else if (reader == std::size(kSockets)) {
            check_command(line, std::nullopt);
        } else {
            check_command(line, reader == std::size(kSockets) + 1 ? proto::Access::read_only : proto::Access::admin);
        }
        if (nl == std::string_view::npos) break;
        input.remove_prefix(nl + 1);
    }
    return 0;
}
