// A request parser and its callbacks, pooled per worker: a parser reserves its whole head buffer up front, so idle
// connections hand theirs back. The callbacks go to whichever session holds the slot (defined in session.cpp).
#pragma once

#include <cstdint>
#include <span>

#include "http/request_parser.hpp"

namespace dlba::server {

class Session;

struct ParserSlot final : http::RequestCallbacks {
    explicit ParserSlot(const http::RequestLimits& limits) : parser(limits, *this) {}
    http::Action on_request_head(const http::RequestHead& head) override;
    http::Action on_body_data(std::span<const char> data) override;
    http::Action on_message_complete() override;

    Session* session = nullptr;
    uint64_t generation = 0;  // whose request limits it was built with
    http::RequestParser parser;
};

}  // namespace dlba::server
