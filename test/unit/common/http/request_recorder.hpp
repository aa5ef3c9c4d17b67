// Test helper: a RequestCallbacks that copies everything it is told, and a driver that feeds input in pieces.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/request_parser.hpp"

namespace dlba::http::test {

struct RecordedRequest {
    std::string method;
    std::string target;
    TargetForm form = TargetForm::origin;
    int minor_version = -1;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string host;
    BodyFraming framing = BodyFraming::none;
    uint64_t content_length = 0;
    bool keep_alive = false;
    bool expect_continue = false;
    bool upgrade = false;
    std::string body;
    bool complete = false;

    bool operator==(const RecordedRequest&) const = default;
};

class Recorder : public RequestCallbacks {
public:
    std::vector<RecordedRequest> requests;
    Action on_head = Action::proceed;  // what to answer, to test pausing
    Action on_body = Action::proceed;
    Action on_complete = Action::proceed;

    Action on_request_head(const RequestHead& h) override {
        RecordedRequest r;
        r.method = h.method;
        r.target = h.target;
        r.form = h.form;
        r.minor_version = h.minor_version;
        for (const Header& hd : h.headers) r.headers.emplace_back(hd.name, hd.value);
        r.host = h.host;
        r.framing = h.framing;
        r.content_length = h.content_length;
        r.keep_alive = h.keep_alive;
        r.expect_continue = h.expect_continue;
        r.upgrade = h.upgrade;
        requests.push_back(std::move(r));
        return on_head;
    }
    Action on_body_data(std::span<const char> data) override {
        requests.back().body.append(data.data(), data.size());
        return on_body;
    }
    Action on_message_complete() override {
        requests.back().complete = true;
        return on_complete;
    }
};

struct Outcome {
    std::vector<RecordedRequest> requests;
    ParseStatus status = ParseStatus::ok;
    HttpError error;
    size_t consumed = 0;
};

// Feeds `input` in pieces of `piece` bytes (0: all at once), as a socket might deliver it.
inline Outcome parse(std::string_view input, size_t piece = 0, const RequestLimits& limits = {}) {
    Recorder recorder;
    RequestParser parser(limits, recorder);
    Outcome out;
    if (piece == 0) piece = input.size() ? input.size() : 1;
    for (size_t pos = 0; pos < input.size(); pos += piece) {
        std::string_view part = input.substr(pos, piece);
        ParseResult r = parser.execute(part.data(), part.size());
        out.consumed += r.consumed;
        out.status = r.status;
        if (r.status == ParseStatus::error || r.status == ParseStatus::done) break;
    }
    out.requests = recorder.requests;
    out.error = parser.error();
    return out;
}

}  // namespace dlba::http::test
