// What every parse of a control request line must satisfy, whichever daemon reads it (shared by the control
// socket and config port fuzz targets):
//   - a request is one the daemon serves, and a SHOW/ADMIN holds an inner request of the right access class for
//     the node's own daemons;
//   - format() is one line, and parsing it again gives the same request (format(parse(format(r))) == format(r));
//   - a line already in canonical spelling formats back to itself;
//   - a refusal says why in one line (the TCP ports send it back as the ERR line), and `empty` exactly when the
//     line has no words.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "fuzz_check.hpp"
#include "io/words.hpp"
#include "protocol/request.hpp"
#include "protocol/verbs.hpp"

namespace dlba::fuzz {

inline bool one_line(std::string_view s) { return s.find('\n') == std::string_view::npos; }

inline void check_request(const proto::Request& r, proto::Daemon daemon) {
    FUZZ_CHECK(proto::serves(proto::spec(r.verb).served_by, daemon));
    if (r.verb == proto::Verb::show || r.verb == proto::Verb::admin) {
        FUZZ_CHECK(r.inner != nullptr);
        FUZZ_CHECK(proto::access_of(*r.inner) ==
                   (r.verb == proto::Verb::show ? proto::Access::read_only : proto::Access::admin));
        FUZZ_CHECK(r.inner->verb != proto::Verb::show && r.inner->verb != proto::Verb::admin);
        const auto local = proto::spec(r.inner->verb).served_by;
        FUZZ_CHECK(proto::serves(local, proto::Daemon::scheduler) || proto::serves(local, proto::Daemon::server) ||
                   proto::serves(local, proto::Daemon::dlbad_monitor));
    } else {
        FUZZ_CHECK(r.inner == nullptr);
    }
}

// Parses `line` as `daemon` does and checks every invariant above; returns the parse.
inline proto::Parsed check_line(std::string_view line, proto::Daemon daemon) {
    proto::Parsed p = proto::parse(line, daemon);
    if (const auto* e = std::get_if<proto::ParseError>(&p)) {
        FUZZ_CHECK(!e->message.empty());
        FUZZ_CHECK(!one_line(line) || one_line(e->message));
        FUZZ_CHECK((e->kind == proto::ParseError::Kind::empty) == io::split_words(line).empty());
        if (e->kind == proto::ParseError::Kind::bad_arguments) FUZZ_CHECK(e->verb.has_value());
        return p;
    }
    const auto& r = std::get<proto::Request>(p);
    check_request(r, daemon);
    const std::string text = proto::format(r);
    FUZZ_CHECK(one_line(text));
    FUZZ_CHECK(proto::format_line(r) == text + "\n");
    const proto::Parsed again = proto::parse(text, daemon);
    const auto* r2 = std::get_if<proto::Request>(&again);
    if (!r2) std::fprintf(stderr, "'%s' formats to '%s', which does not parse\n", std::string(line).c_str(),
                          text.c_str());
    FUZZ_CHECK(r2 != nullptr);
    FUZZ_CHECK(r2->verb == r.verb);
    FUZZ_CHECK(proto::format(*r2) == text);
    // Canonical spelling: a line of single spaces that formats to something else was not canonical after all,
    // so only one direction can be checked: the canonical text is a fixed point.
    return p;
}

}  // namespace dlba::fuzz
