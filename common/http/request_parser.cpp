#include "http/request_parser.hpp"

#include <algorithm>
#include <cstring>

namespace dlba::http {

namespace {

// uri-host [ ":" port ] characters (RFC 3986 reg-name, IP-literal, pct-encoded). ',' is left out on purpose: a comma
// in Host means something upstream joined two Host fields, which is exactly the ambiguity we refuse.
bool is_authority_char(char c) {
    if (is_alpha(c) || is_digit(c)) return true;
    return std::string_view("-._~!$&'()*+;=:[]%").find(c) != std::string_view::npos;
}

bool is_valid_authority(std::string_view s) {
    return std::all_of(s.begin(), s.end(), is_authority_char);
}

}  // namespace

RequestParser::RequestParser(const RequestLimits& limits, RequestCallbacks& callbacks)
    : limits_(limits),
      callbacks_(callbacks),
      body_(BodyLimits{limits.max_chunk_line, limits.max_trailer_bytes, limits.max_body_bytes}, 400) {
    head_buf_.reserve(limits_.max_request_line() + limits_.max_header_bytes);
    headers_.reserve(limits_.max_header_count);
}

ParseResult RequestParser::fail(size_t consumed, HttpError error) {
    error_ = error;
    state_ = State::failed;
    return {consumed, ParseStatus::error};
}

void RequestParser::start_next_request() {
    state_ = State::head;
    head_buf_.clear();
    line_start_ = 0;
    request_line_end_ = 0;
    field_lines_ = 0;
    head_ = {};
    headers_.clear();
    host_count_ = 0;
    content_length_count_ = 0;
    content_length_invalid_ = false;
    has_transfer_encoding_ = false;
    te_last_is_chunked_ = false;
    te_chunked_count_ = 0;
    connection_close_ = false;
    connection_keep_alive_ = false;
    connection_upgrade_ = false;
    has_upgrade_ = false;
}

ParseResult RequestParser::execute(const char* data, size_t len) {
    size_t pos = 0;
    while (true) {
        switch (state_) {
            case State::failed: return {pos, ParseStatus::error};
            case State::closed: return {pos, ParseStatus::done};

            case State::head: {
                if (pos == len) return {pos, ParseStatus::ok};
                bool complete = false;
                pos += feed_head(data + pos, len - pos, complete);
                if (error_) return fail(pos, error_);
                if (!complete) break;
                if (HttpError e = parse_head()) return fail(pos, e);
                body_.start(head_.framing, head_.content_length);
                state_ = body_.state() == BodyState::complete ? State::message_end : State::body;
                if (callbacks_.on_request_head(head_) == Action::pause) return {pos, ParseStatus::paused};
                break;
            }

            case State::body: {
                BodyStep s = body_.step(data + pos, len - pos);
                pos += s.consumed;
                if (s.state == BodyState::error) return fail(pos, body_.error());
                if (s.state == BodyState::complete) state_ = State::message_end;
                if (!s.data.empty() && callbacks_.on_body_data(s.data) == Action::pause)
                    return {pos, ParseStatus::paused};
                if (state_ == State::body && pos == len) return {pos, ParseStatus::ok};
                break;
            }

            case State::message_end: {
                bool keep_alive = head_.keep_alive;
                Action action = callbacks_.on_message_complete();
                // RFC 9112 §9.6: after a request with "close" the server must not process further requests.
                if (keep_alive)
                    start_next_request();
                else
                    state_ = State::closed;
                if (action == Action::pause) return {pos, ParseStatus::paused};
                break;
            }
        }
    }
}

// Copies head bytes into head_buf_ line by line, enforcing the size limits before the buffer could grow past them.
size_t RequestParser::feed_head(const char* data, size_t len, bool& complete) {
    size_t pos = 0;
    while (pos < len) {
        bool in_request_line = request_line_end_ == 0;
        size_t limit = in_request_line ? limits_.max_request_line() : limits_.max_header_bytes;
        size_t used = head_buf_.size() - request_line_end_;
        size_t avail = std::min(len - pos, limit - used);
        const void* lf = std::memchr(data + pos, '\n', avail);
        size_t n = lf ? static_cast<size_t>(static_cast<const char*>(lf) - (data + pos)) + 1 : avail;
        head_buf_.append(data + pos, n);
        pos += n;
        if (!lf) {
            if (pos < len) {  // no line end within the limit and more bytes waiting
                if (!in_request_line)
                    error_ = {431, "header section too large"};
                else if (head_buf_.find(' ') != std::string::npos)
                    error_ = {414, "request target too long"};
                else
                    error_ = {400, "request line too long"};
            }
            return pos;
        }
        if (!end_line(complete) || complete) return pos;
    }
    return pos;
}

// Called with head_buf_ ending in LF. Returns false on error.
bool RequestParser::end_line(bool& complete) {
    size_t end = head_buf_.size();
    if (end - line_start_ < 2 || head_buf_[end - 2] != '\r') {
        error_ = {400, "bare LF"};
        return false;
    }
    bool empty = end - line_start_ == 2;
    if (request_line_end_ == 0) {
        if (empty) {  // RFC 9112 §2.2: ignore empty lines before the request line (stray CRLF after a body)
            head_buf_.clear();
            line_start_ = 0;
            return true;
        }
        request_line_end_ = end;
    } else if (empty) {
        complete = true;
    } else if (++field_lines_ > limits_.max_header_count) {
        error_ = {431, "too many header fields"};
        return false;
    }
    line_start_ = end;
    return true;
}

HttpError RequestParser::parse_request_line(std::string_view line) {
    // request-line = method SP request-target SP HTTP-version, single spaces only.
    size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return {400, "malformed request line"};
    std::string_view method = line.substr(0, sp1);
    std::string_view rest = line.substr(sp1 + 1);
    size_t sp2 = rest.find(' ');
    if (sp2 == std::string_view::npos) return {400, "malformed request line"};
    std::string_view target = rest.substr(0, sp2);
    std::string_view version = rest.substr(sp2 + 1);

    if (!is_token(method)) return {400, "invalid method"};
    if (target.empty()) return {400, "malformed request line"};
    if (target.size() > limits_.max_target_length) return {414, "request target too long"};
    for (char c : target)  // VCHAR only: no controls, no bare CR, no obs-text, no spaces
        if (!is_field_vchar(c) || static_cast<unsigned char>(c) >= 0x80) return {400, "invalid character in target"};

    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !is_digit(version[5]) || version[6] != '.' ||
        !is_digit(version[7]))
        return {400, "malformed HTTP version"};
    if (version[5] != '1' || version[7] > '1') return {505, "HTTP version not supported"};

    head_.method = method;
    head_.target = target;
    head_.minor_version = static_cast<uint8_t>(version[7] - '0');

    // A reverse proxy does not tunnel.
    if (method == "CONNECT") return {501, "CONNECT not supported"};
    if (target.front() == '/') {
        head_.form = TargetForm::origin;
    } else if (target == "*") {
        if (method != "OPTIONS") return {400, "asterisk-form target without OPTIONS"};
        head_.form = TargetForm::asterisk;
    } else if (istarts_with(target, "http://") || istarts_with(target, "https://")) {
        head_.form = TargetForm::absolute;
        std::string_view after_scheme = target.substr(target.find("//") + 2);
        std::string_view authority = after_scheme.substr(0, after_scheme.find_first_of("/?#"));
        if (authority.empty() || !is_valid_authority(authority)) return {400, "invalid authority in target"};
        head_.host = authority;
    } else {
        return {400, "invalid request target"};
    }
    return {};
}

HttpError RequestParser::apply_header(const Header& h) {
    if (iequals(h.name, "host")) {
        if (++host_count_ > 1) return {400, "duplicate Host"};
        if (!is_valid_authority(h.value)) return {400, "invalid Host"};
        if (head_.form != TargetForm::absolute) head_.host = h.value;
    } else if (iequals(h.name, "content-length")) {
        // Even identical duplicates are refused (RFC 9112 §6.3 allows accepting "1,1"; a strict proxy does not).
        if (++content_length_count_ > 1) return {400, "duplicate Content-Length"};
        auto length = parse_content_length(h.value);
        if (!length) return {400, "invalid Content-Length"};
        head_.content_length = *length;
    } else if (iequals(h.name, "transfer-encoding")) {
        has_transfer_encoding_ = true;
        HttpError error;
        for_each_list_element(h.value, [&](std::string_view coding) {
            if (!is_token(coding)) {  // also catches empty elements and parameters
                error = {400, "invalid Transfer-Encoding"};
                return false;
            }
            if (!is_known_transfer_coding(coding)) {
                error = {501, "unknown transfer coding"};
                return false;
            }
            bool chunked = iequals(coding, "chunked");
            if (chunked) ++te_chunked_count_;
            te_last_is_chunked_ = chunked;
            return true;
        });
        if (error) return error;
    } else if (iequals(h.name, "connection")) {
        connection_close_ = connection_close_ || list_contains(h.value, "close");
        connection_keep_alive_ = connection_keep_alive_ || list_contains(h.value, "keep-alive");
        connection_upgrade_ = connection_upgrade_ || list_contains(h.value, "upgrade");
    } else if (iequals(h.name, "upgrade")) {
        has_upgrade_ = true;
    } else if (iequals(h.name, "expect")) {
        head_.expect_continue = head_.expect_continue || list_contains(h.value, "100-continue");
    }
    return {};
}

HttpError RequestParser::check_framing_and_host() {
    if (has_transfer_encoding_) {
        // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing; with Content-Length it is a smuggle.
        if (head_.minor_version == 0) return {400, "Transfer-Encoding in HTTP/1.0"};
        if (content_length_count_ > 0) return {400, "both Content-Length and Transfer-Encoding"};
        // RFC 9112 §6.1: chunked must be the final coding and must not be applied twice.
        if (te_chunked_count_ > 1) return {400, "chunked applied twice"};
        if (!te_last_is_chunked_) return {400, "Transfer-Encoding does not end in chunked"};
        head_.framing = BodyFraming::chunked;
    } else if (content_length_count_ > 0) {
        head_.framing = BodyFraming::content_length;
        if (limits_.max_body_bytes != 0 && head_.content_length > limits_.max_body_bytes)
            return {413, "body too large"};
    } else {
        head_.framing = BodyFraming::none;
    }

    if (head_.minor_version == 1 && host_count_ == 0) return {400, "missing Host"};
    if (head_.form == TargetForm::absolute && host_count_ == 1) {
        const Header* host = find_header(headers_, "host");
        if (!iequals(host->value, head_.host)) return {400, "Host does not match target"};
    }

    if (head_.minor_version == 1) {
        head_.keep_alive = !connection_close_;
        // RFC 9110 §7.8: an Upgrade field counts only when Connection names it (and never on HTTP/1.0).
        head_.upgrade = connection_upgrade_ && has_upgrade_;
    } else {
        head_.keep_alive = connection_keep_alive_ && !connection_close_;
        head_.expect_continue = false;  // RFC 9110 §10.1.1: ignored on HTTP/1.0
    }
    return {};
}

HttpError RequestParser::parse_head() {
    std::string_view buf = head_buf_;
    if (HttpError e = parse_request_line(buf.substr(0, request_line_end_ - 2))) return e;

    // Every line in buf ends in CRLF (end_line checked), so splitting at LF and dropping one byte is exact. A CR
    // inside a line stays in it and fails the character checks below.
    size_t pos = request_line_end_;
    size_t end = buf.size() - 2;  // start of the empty line that ends the head
    while (pos < end) {
        size_t lf = buf.find('\n', pos);
        Header h;
        if (HttpError e = parse_field_line_strict(buf.substr(pos, lf - 1 - pos), h, 400)) return e;
        headers_.push_back(h);
        if (HttpError e = apply_header(h)) return e;
        pos = lf + 1;
    }
    if (HttpError e = check_framing_and_host()) return e;
    head_.headers = headers_;
    return {};
}

}  // namespace dlba::http
