#include "http/response_scanner.hpp"

#include <algorithm>
#include <cstring>

namespace dlba::http {

namespace {
constexpr uint16_t bad_gateway = 502;

// The fields that say where the body ends: no repair is made on them (see the header).
bool is_framing_field(std::string_view name) {
    return iequals(name, "content-length") || iequals(name, "transfer-encoding");
}

// Removes the line terminator (LF, or CRLF) from a line that ends in LF.
std::string_view strip_line_end(std::string_view line) {
    line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}
}  // namespace

ResponseHeadScanner::ResponseHeadScanner(const ResponseLimits& limits) : limits_(limits) {
    head_buf_.reserve(limits_.max_head_bytes);
    headers_.reserve(limits_.max_header_count);
}

void ResponseHeadScanner::start(bool head_request, bool upgrade_offered) {
    head_request_ = head_request;
    upgrade_offered_ = upgrade_offered;
    complete_ = false;
    head_buf_.clear();
    line_start_ = 0;
    lines_ = 0;
    headers_.clear();
    head_ = {};
    error_ = {};
}

ScanResult ResponseHeadScanner::fail(size_t consumed, HttpError error) {
    error_ = error;
    return {consumed, ScanStatus::error};
}

ScanResult ResponseHeadScanner::scan(const char* data, size_t len) {
    if (error_) return {0, ScanStatus::error};
    if (complete_) return {0, ScanStatus::complete};
    size_t pos = 0;
    while (pos < len) {
        size_t avail = std::min(len - pos, limits_.max_head_bytes - head_buf_.size());
        const void* lf = std::memchr(data + pos, '\n', avail);
        size_t n = lf ? static_cast<size_t>(static_cast<const char*>(lf) - (data + pos)) + 1 : avail;
        head_buf_.append(data + pos, n);
        pos += n;
        if (!lf) {
            if (pos < len) return fail(pos, {bad_gateway, "response head too large"});
            return {pos, ScanStatus::need_more};
        }
        // A bare LF ends a line here (RFC 9112 §2.2 allows it); the CR before an LF is optional.
        std::string_view line = strip_line_end(std::string_view(head_buf_).substr(line_start_));
        if (line.empty()) {
            if (lines_ == 0) {  // stray empty lines before the status line
                head_buf_.clear();
                line_start_ = 0;
                continue;
            }
            if (HttpError e = parse_head()) return fail(pos, e);
            complete_ = true;
            return {pos, ScanStatus::complete};
        }
        if (++lines_ > limits_.max_header_count + 1) return fail(pos, {bad_gateway, "too many response header fields"});
        line_start_ = head_buf_.size();
    }
    return {pos, ScanStatus::need_more};
}

HttpError ResponseHeadScanner::parse_status_line(std::string_view line) {
    // status-line = HTTP-version SP 3DIGIT SP [ reason-phrase ]; a missing "SP reason" is tolerated.
    if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || !is_digit(line[5]) || line[6] != '.' ||
        !is_digit(line[7]) || line[8] != ' ')
        return {bad_gateway, "malformed status line"};
    if (line[5] != '1') return {bad_gateway, "unsupported HTTP version in response"};
    std::string_view code = line.substr(9, 3);
    if (!std::all_of(code.begin(), code.end(), is_digit) || code[0] < '1' || code[0] > '5')
        return {bad_gateway, "invalid status code"};
    std::string_view rest = line.substr(12);
    if (!rest.empty() && rest.front() != ' ') return {bad_gateway, "malformed status line"};
    std::string_view reason = rest.empty() ? rest : rest.substr(1);
    if (!is_field_value(reason)) return {bad_gateway, "invalid character in reason phrase"};

    // HTTP/1.2+ would be treated as the highest version we speak (RFC 9110 §6.2).
    head_.minor_version = line[7] == '0' ? 0 : 1;
    head_.status = static_cast<uint16_t>((code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0'));
    head_.reason = reason;
    return {};
}

HttpError ResponseHeadScanner::parse_head() {
    std::string_view buf = head_buf_;
    size_t lf = buf.find('\n');
    if (HttpError e = parse_status_line(strip_line_end(buf.substr(0, lf + 1)))) return e;

    size_t pos = lf + 1;
    size_t value_begin = 0;  // offset of the last field's value, for unfolding
    while (pos < line_start_) {
        lf = buf.find('\n', pos);
        std::string_view line = strip_line_end(buf.substr(pos, lf + 1 - pos));
        size_t line_end = pos + line.size();
        if (is_ows(line.front())) {
            // obs-fold: RFC 9112 §5.2 lets a proxy replace it by spaces. Blank out the previous line's terminator so
            // the previous value runs on, all inside the buffer.
            if (headers_.empty()) return {bad_gateway, "obs-fold before first header"};
            if (is_framing_field(headers_.back().name)) return {bad_gateway, "obs-fold in a framing field"};
            const Header& prev = headers_.back();
            size_t prev_end = static_cast<size_t>(prev.value.data() - buf.data()) + prev.value.size();
            std::fill(head_buf_.begin() + static_cast<std::ptrdiff_t>(prev_end),
                      head_buf_.begin() + static_cast<std::ptrdiff_t>(pos), ' ');
            headers_.back().value = trim_ows(buf.substr(value_begin, line_end - value_begin));
        } else {
            size_t colon = line.find(':');
            if (colon == std::string_view::npos) return {bad_gateway, "response field line without colon"};
            // Whitespace before the colon is dropped (RFC 9112 §5.1: a proxy must remove it before forwarding).
            std::string_view name = line.substr(0, colon);
            const size_t written = name.size();
            while (!name.empty() && is_ows(name.back())) name.remove_suffix(1);
            if (!is_token(name)) return {bad_gateway, "invalid response field name"};
            // "Content-Length : 5" is the classic smuggle: a reader that does not strip sees no length at all.
            if (name.size() != written && is_framing_field(name))
                return {bad_gateway, "whitespace before colon in a framing field"};
            value_begin = pos + colon + 1;
            headers_.push_back({name, trim_ows(line.substr(colon + 1))});
        }
        // RFC 9110 §5.5: CR, LF, NUL and the other controls in a value are dangerous; refuse rather than guess.
        if (!is_field_value(headers_.back().value)) return {bad_gateway, "invalid character in response field"};
        pos = lf + 1;
    }
    if (HttpError e = decide_framing()) return e;
    head_.headers = headers_;
    return {};
}

HttpError ResponseHeadScanner::decide_framing() {
    bool close = false, keep_alive_token = false, has_te = false, te_last_chunked = false;
    size_t chunked_count = 0, content_length_count = 0;
    bool content_length_valid = true;
    HttpError te_error;
    for (const Header& h : headers_) {
        if (iequals(h.name, "content-length")) {
            ++content_length_count;
            auto length = parse_content_length(h.value);
            content_length_valid = content_length_valid && length.has_value();
            if (length) head_.content_length = *length;
        } else if (iequals(h.name, "transfer-encoding")) {
            has_te = true;
            for_each_list_element(h.value, [&](std::string_view coding) {
                if (!is_token(coding)) {  // also catches empty elements and parameters
                    te_error = {bad_gateway, "invalid Transfer-Encoding in response"};
                    return false;
                }
                if (!is_known_transfer_coding(coding)) {
                    te_error = {bad_gateway, "unknown transfer coding in response"};
                    return false;
                }
                te_last_chunked = iequals(coding, "chunked");
                chunked_count += te_last_chunked ? 1 : 0;
                head_.transfer_coded = head_.transfer_coded || !te_last_chunked;
                return true;
            });
        } else if (iequals(h.name, "connection")) {
            close = close || list_contains(h.value, "close");
            keep_alive_token = keep_alive_token || list_contains(h.value, "keep-alive");
        }
    }
    head_.keep_alive = head_.minor_version == 1 ? !close : keep_alive_token && !close;

    if (head_.status == 101) {
        if (!upgrade_offered_) return {bad_gateway, "protocol switch nobody asked for"};
        // RFC 9110 §15.2.2: a 101 names the protocols it switches to (which ones were offered: http/upgrade.hpp).
        if (!find_header(headers_, "upgrade")) return {bad_gateway, "101 without Upgrade"};
        head_.keep_alive = false;  // the connection speaks another protocol from here on
    }
    // The framing fields, on every answer: even where they delimit nothing (HEAD, 304) they are passed on.
    if (content_length_count > 1) return {bad_gateway, "duplicate Content-Length in response"};
    if (!content_length_valid) return {bad_gateway, "invalid Content-Length in response"};
    if (te_error) return te_error;
    if (has_te) {
        if (content_length_count > 0) return {bad_gateway, "both Content-Length and Transfer-Encoding in response"};
        if (head_.minor_version == 0) return {bad_gateway, "Transfer-Encoding in HTTP/1.0 response"};
        if (chunked_count > 1) return {bad_gateway, "chunked applied twice in response"};
        // "chunked, gzip": chunked under another coding; no re-framing makes that one valid message.
        if (chunked_count == 1 && !te_last_chunked) return {bad_gateway, "chunked not the last transfer coding"};
    }

    // RFC 9112 §6.3, in its order. 1xx, 204, 304 and answers to HEAD never have a body, whatever the headers say.
    if (head_request_ || head_.status < 200 || head_.status == 204 || head_.status == 304) {
        head_.framing = BodyFraming::none;
        head_.content_length = 0;
        return {};
    }
    if (has_te) {
        // Codings without chunked ("gzip"): the body runs until the back end closes (§6.3 rule 4).
        head_.framing = te_last_chunked ? BodyFraming::chunked : BodyFraming::until_close;
    } else if (content_length_count > 0) {
        head_.framing = BodyFraming::content_length;
    } else {
        head_.framing = BodyFraming::until_close;
    }
    if (head_.framing == BodyFraming::until_close) head_.keep_alive = false;
    return {};
}

}  // namespace dlba::http
