// Fuzzes the metrics endpoint's request judge (common/metrics/scrape_request): the bytes a scraper (or anyone who
// reaches metrics.listen) sends. Invariants: it never reads past the input; it asks for more bytes only below the
// size limit; a verdict on a complete head does not change when more bytes follow it (the answer closes the
// connection, the rest is never read); GET /metrics is the only way to the body; every answer is a well-formed
// HTTP/1.1 status line with Connection: close.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "metrics/scrape_request.hpp"

using namespace dlba::metrics;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const ScrapeVerdict v = judge_scrape_request(input);
    if (v == ScrapeVerdict::incomplete) FUZZ_CHECK(size < kMaxScrapeRequest);
    if (size >= kMaxScrapeRequest) FUZZ_CHECK(v != ScrapeVerdict::incomplete);
    if (v != ScrapeVerdict::incomplete && v != ScrapeVerdict::too_large) {
        // More bytes after a complete head change nothing.
        const std::string more = std::string(input) + "GET /metrics HTTP/1.1\r\n\r\n";
        if (more.size() < kMaxScrapeRequest) FUZZ_CHECK(judge_scrape_request(more) == v);
    }
    if (v == ScrapeVerdict::metrics) FUZZ_CHECK(input.find("GET /metrics") != std::string_view::npos);
    const std::string answer = scrape_response(v, "BODY");
    FUZZ_CHECK(answer.rfind("HTTP/1.1 ", 0) == 0);
    FUZZ_CHECK(answer.find("\r\nConnection: close\r\n\r\n") != std::string::npos);
    FUZZ_CHECK((answer.find("BODY") != std::string::npos) == (v == ScrapeVerdict::metrics));
    return 0;
}
