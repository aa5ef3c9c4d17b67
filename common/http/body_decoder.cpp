#include "http/body_decoder.hpp"

#include <algorithm>
#include <cstring>

#include "hex.hpp"

namespace dlba::http {

namespace {

// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE; returns the index after it, or npos.
size_t skip_quoted_string(std::string_view s, size_t i) {
    if (i >= s.size() || s[i] != '"') return std::string_view::npos;
    for (++i; i < s.size(); ++i) {
        char c = s[i];
        if (c == '"') return i + 1;
        if (c == '\\') {
            if (++i >= s.size() || is_ctl_not_htab(s[i])) return std::string_view::npos;
        } else if (is_ctl_not_htab(c)) {
            return std::string_view::npos;
        }
    }
    return std::string_view::npos;
}

}  // namespace

BodyDecoder::BodyDecoder(BodyLimits limits, uint16_t error_status) : limits_(limits), error_status_(error_status) {
    line_.reserve(std::max(limits_.max_chunk_line, limits_.max_trailer_bytes));
}

void BodyDecoder::start(BodyFraming framing, uint64_t content_length) {
    remaining_ = 0;
    body_bytes_ = 0;
    trailer_bytes_ = 0;
    line_.clear();
    error_ = {};
    switch (framing) {
        case BodyFraming::none: phase_ = Phase::done; break;
        case BodyFraming::content_length:
            remaining_ = content_length;
            phase_ = content_length == 0 ? Phase::done : Phase::length;
            break;
        case BodyFraming::chunked: phase_ = Phase::size_line; break;
        case BodyFraming::until_close: phase_ = Phase::until_close; break;
    }
}

BodyState BodyDecoder::state() const {
    if (phase_ == Phase::done) return BodyState::complete;
    if (phase_ == Phase::failed) return BodyState::error;
    return BodyState::more;
}

BodyState BodyDecoder::finish_at_eof() {
    if (phase_ == Phase::until_close) phase_ = Phase::done;
    if (phase_ != Phase::done && phase_ != Phase::failed) {
        phase_ = Phase::failed;
        error_ = {error_status_, "body truncated by end of stream"};
    }
    return state();
}

BodyStep BodyDecoder::fail(size_t consumed, HttpError error) {
    phase_ = Phase::failed;
    error_ = error;
    return {consumed, {}, BodyState::error};
}

// Appends input up to and including the next LF to line_. Returns false when the line would exceed `limit` bytes.
bool BodyDecoder::take_line(const char*& p, const char* end, size_t limit, bool& complete) {
    size_t room = limit > line_.size() ? limit - line_.size() : 0;
    size_t avail = std::min(static_cast<size_t>(end - p), room);
    const void* lf = std::memchr(p, '\n', avail);
    size_t n = lf ? static_cast<size_t>(static_cast<const char*>(lf) - p) + 1 : avail;
    line_.append(p, n);
    p += n;
    complete = lf != nullptr;
    return complete || p == end;  // no LF within the room left and more input waiting: too long
}

// chunk-size [ chunk-ext ] where chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )
HttpError BodyDecoder::parse_size_line(std::string_view line, uint64_t& size) const {
    size_t i = 0;
    size = 0;
    for (; i < line.size() && hex_digit_value(line[i]) >= 0; ++i) {
        if (size > (uint64_t{1} << 58)) return {error_status_, "chunk size overflow"};
        size = size * 16 + static_cast<uint64_t>(hex_digit_value(line[i]));
    }
    if (i == 0) return {error_status_, "invalid chunk size"};
    auto skip_bws = [&] {
        while (i < line.size() && is_ows(line[i])) ++i;
    };
    auto skip_token = [&] {
        size_t start = i;
        while (i < line.size() && is_tchar(line[i])) ++i;
        return i > start;
    };
    while (i < line.size()) {
        skip_bws();
        if (i >= line.size() || line[i] != ';') return {error_status_, "invalid chunk extension"};
        ++i;
        skip_bws();
        if (!skip_token()) return {error_status_, "invalid chunk extension"};
        skip_bws();
        if (i < line.size() && line[i] == '=') {
            ++i;
            skip_bws();
            if (i < line.size() && line[i] == '"') {
                i = skip_quoted_string(line, i);
                if (i == std::string_view::npos) return {error_status_, "invalid chunk extension"};
            } else if (!skip_token()) {
                return {error_status_, "invalid chunk extension"};
            }
        }
    }
    return {};
}

BodyStep BodyDecoder::step(const char* data, size_t len) {
    const char* p = data;
    const char* end = data + len;
    auto used = [&] { return static_cast<size_t>(p - data); };

    while (true) {
        switch (phase_) {
            case Phase::done: return {used(), {}, BodyState::complete};
            case Phase::failed: return {used(), {}, BodyState::error};

            case Phase::until_close: {
                body_bytes_ += len;
                return {len, {data, len}, BodyState::more};
            }

            case Phase::length:
            case Phase::data: {
                if (p == end) return {used(), {}, BodyState::more};
                size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, static_cast<uint64_t>(end - p)));
                std::span<const char> piece(p, n);
                p += n;
                remaining_ -= n;
                body_bytes_ += n;
                if (remaining_ == 0) phase_ = phase_ == Phase::length ? Phase::done : Phase::data_cr;
                return {used(), piece, phase_ == Phase::done ? BodyState::complete : BodyState::more};
            }

            case Phase::data_cr:
            case Phase::data_lf: {
                if (p == end) return {used(), {}, BodyState::more};
                char expected = phase_ == Phase::data_cr ? '\r' : '\n';
                if (*p != expected) return fail(used(), {error_status_, "chunk data not followed by CRLF"});
                ++p;
                phase_ = phase_ == Phase::data_cr ? Phase::data_lf : Phase::size_line;
                break;
            }

            case Phase::size_line: {
                bool complete = false;
                if (!take_line(p, end, limits_.max_chunk_line, complete))
                    return fail(used(), {error_status_, "chunk size line too long"});
                if (!complete) return {used(), {}, BodyState::more};
                if (line_.size() < 2 || line_[line_.size() - 2] != '\r')
                    return fail(used(), {error_status_, "bare LF in chunk size line"});
                uint64_t size = 0;
                if (HttpError e = parse_size_line(std::string_view(line_).substr(0, line_.size() - 2), size))
                    return fail(used(), e);
                line_.clear();
                if (limits_.max_body_bytes != 0 && size > limits_.max_body_bytes - body_bytes_)
                    return fail(used(), {413, "body too large"});
                remaining_ = size;
                phase_ = size == 0 ? Phase::trailer : Phase::data;
                break;
            }

            case Phase::trailer: {
                bool complete = false;
                if (!take_line(p, end, limits_.max_trailer_bytes - trailer_bytes_, complete))
                    return fail(used(), {error_status_, "trailer section too large"});
                if (!complete) return {used(), {}, BodyState::more};
                if (line_.size() < 2 || line_[line_.size() - 2] != '\r')
                    return fail(used(), {error_status_, "bare LF in trailer section"});
                std::string_view line = std::string_view(line_).substr(0, line_.size() - 2);
                if (line.empty()) {
                    line_.clear();
                    phase_ = Phase::done;
                    return {used(), {}, BodyState::complete};
                }
                // Trailers are validated like header fields, then dropped: the proxy re-frames the body and sends
                // no trailers of its own (RFC 9112 §7.1.2 lets a recipient discard them).
                Header ignored;
                if (HttpError e = parse_field_line_strict(line, ignored, error_status_)) return fail(used(), e);
                trailer_bytes_ += line_.size();
                line_.clear();
                break;
            }
        }
    }
}

}  // namespace dlba::http
