// The one request dlbad's metrics endpoint serves, "GET /metrics", told apart from everything else a client may
// send. Network input: the bytes are whatever came, so this is bounded (kMaxScrapeRequest), never throws and is
// fuzzed (test/fuzz/scrape_request_fuzz.cpp). One request per connection; the answer closes it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dlba::metrics {

inline constexpr size_t kMaxScrapeRequest = 8192;  // request line and header fields together

enum class ScrapeVerdict : uint8_t {
    incomplete,          // no end of the head yet (and under the limit): read on
    metrics,             // GET /metrics (a query string is ignored): 200 with the exposition
    not_found,           // GET of another path: 404
    method_not_allowed,  // a well-formed request with another method: 405, Allow: GET
    bad_request,         // not an HTTP/1.x request head: 400
    too_large,           // no end of the head within kMaxScrapeRequest bytes: 431
};

// Judges the bytes read so far from one connection.
ScrapeVerdict judge_scrape_request(std::string_view bytes);

// The whole answer, head and body, with Connection: close. `body` is used only for ScrapeVerdict::metrics; the
// other verdicts answer with a short text. `status` 408 answers a client that did not finish in time.
std::string scrape_response(ScrapeVerdict verdict, std::string_view body);
std::string timeout_response();

}  // namespace dlba::metrics
