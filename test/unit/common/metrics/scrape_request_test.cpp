// The one request the metrics endpoint serves, and what everything else gets.
#include <catch2/catch.hpp>

#include <string>

#include "metrics/scrape_request.hpp"

using namespace dlba::metrics;

TEST_CASE("GET /metrics is served; a query string is ignored; HTTP/1.0 and bare LFs are fine", "[metrics]") {
    CHECK(judge_scrape_request("GET /metrics HTTP/1.1\r\nHost: 10.0.0.1:9100\r\nAccept: */*\r\n\r\n") ==
          ScrapeVerdict::metrics);
    CHECK(judge_scrape_request("GET /metrics?name[]=x HTTP/1.0\r\n\r\n") == ScrapeVerdict::metrics);
    CHECK(judge_scrape_request("GET /metrics HTTP/1.1\nHost: x\n\n") == ScrapeVerdict::metrics);
    CHECK(judge_scrape_request("\r\nGET /metrics HTTP/1.1\r\n\r\n") == ScrapeVerdict::metrics);
}

TEST_CASE("a head not yet complete is read on, up to the limit", "[metrics]") {
    CHECK(judge_scrape_request("") == ScrapeVerdict::incomplete);
    CHECK(judge_scrape_request("GET /metrics HTTP/1.1\r\nHost: x\r\n") == ScrapeVerdict::incomplete);
    const std::string big = "GET /metrics HTTP/1.1\r\nX: " + std::string(kMaxScrapeRequest, 'a');
    CHECK(judge_scrape_request(big) == ScrapeVerdict::too_large);
    const std::string big_done = big + "\r\n\r\n";
    CHECK(judge_scrape_request(big_done) == ScrapeVerdict::too_large);
}

TEST_CASE("other paths are 404, other methods 405, malformed heads 400", "[metrics]") {
    CHECK(judge_scrape_request("GET / HTTP/1.1\r\n\r\n") == ScrapeVerdict::not_found);
    CHECK(judge_scrape_request("GET /metricsx HTTP/1.1\r\n\r\n") == ScrapeVerdict::not_found);
    CHECK(judge_scrape_request("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n") ==
          ScrapeVerdict::method_not_allowed);
    CHECK(judge_scrape_request("HEAD /metrics HTTP/1.1\r\n\r\n") == ScrapeVerdict::method_not_allowed);
    for (const char* bad : {"GET /metrics\r\n\r\n", "GET /metrics HTTP/2.0\r\n\r\n", "GET metrics HTTP/1.1\r\n\r\n",
                            "GET  /metrics HTTP/1.1\r\n\r\n", "G(T /metrics HTTP/1.1\r\n\r\n",
                            "GET /metrics HTTP/1.1\r\nNoColon\r\n\r\n", "GET /metrics HTTP/1.1\r\n folded\r\n\r\n",
                            "GET /metrics HTTP/1.1\r\nBad Name: x\r\n\r\n", "GET /me\x01trics HTTP/1.1\r\n\r\n",
                            "GET /metrics HTTP/1.1\r\nX: a\rb\r\n\r\n", "\r\n\r\n"}) {
        INFO(bad);
        CHECK(judge_scrape_request(bad) == ScrapeVerdict::bad_request);
    }
}

TEST_CASE("answers carry a status, a length, and close the connection", "[metrics]") {
    const std::string ok = scrape_response(ScrapeVerdict::metrics, "dlba_up 1\n");
    CHECK(ok.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(ok.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != std::string::npos);
    CHECK(ok.find("Content-Length: 10\r\n") != std::string::npos);
    CHECK(ok.find("Connection: close\r\n\r\ndlba_up 1\n") != std::string::npos);
    CHECK(scrape_response(ScrapeVerdict::not_found, "secret").find("secret") == std::string::npos);
    CHECK(scrape_response(ScrapeVerdict::not_found, {}).rfind("HTTP/1.1 404 ", 0) == 0);
    const std::string no = scrape_response(ScrapeVerdict::method_not_allowed, {});
    CHECK(no.rfind("HTTP/1.1 405 ", 0) == 0);
    CHECK(no.find("Allow: GET\r\n") != std::string::npos);
    CHECK(scrape_response(ScrapeVerdict::bad_request, {}).rfind("HTTP/1.1 400 ", 0) == 0);
    CHECK(scrape_response(ScrapeVerdict::too_large, {}).rfind("HTTP/1.1 431 ", 0) == 0);
    CHECK(timeout_response().rfind("HTTP/1.1 408 ", 0) == 0);
}
