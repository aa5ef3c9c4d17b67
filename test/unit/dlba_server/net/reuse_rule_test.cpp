// HAProxy's `http-reuse safe` rule: which requests may go first on an idle pooled (or prewarmed) connection.
#include <catch2/catch.hpp>

#include "net/reuse_rule.hpp"

using namespace dlba;
using namespace dlba::server;

TEST_CASE("only a request without a body and with an idempotent method goes first on an idle connection", "[reuse]") {
    struct Case {
        const char* method;
        http::BodyFraming framing;
        bool may;
    };
    const Case cases[] = {
        {"GET", http::BodyFraming::none, true},
        {"HEAD", http::BodyFraming::none, true},
        {"OPTIONS", http::BodyFraming::none, true},
        {"PUT", http::BodyFraming::none, true},
        {"DELETE", http::BodyFraming::none, true},
        {"POST", http::BodyFraming::none, false},  // not idempotent, even without a body
        {"PATCH", http::BodyFraming::none, false},
        {"CONNECT", http::BodyFraming::none, false},
        {"FROB", http::BodyFraming::none, false},  // unknown: not known to be safe
        {"get", http::BodyFraming::none, false},   // methods are case-sensitive (RFC 9110 §9.1)
        {"PUT", http::BodyFraming::content_length, false},  // a body cannot be sent again
        {"GET", http::BodyFraming::chunked, false},
        {"POST", http::BodyFraming::content_length, false},
    };
    for (const Case& c : cases) {
        INFO(c.method << " framing " << static_cast<int>(c.framing));
        CHECK(replayable_request(c.framing, c.method) == c.may);
        CHECK(may_take_idle_connection(replayable_request(c.framing, c.method)) == c.may);
    }
    static_assert(idempotent_method("GET") && !idempotent_method("POST"));
}
