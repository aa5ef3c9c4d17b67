#include "http/h2_response.hpp"

#include <algorithm>
#include <cstring>

namespace dlba::http {

namespace {

constexpr size_t kMaxLine = 1024;
constexpr size_t kMaxTrailerBytes = 16384;

bool hop_by_hop(std::string_view name) {
    for (std::string_view h : {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
                               "upgrade"}) {
        if (iequals(name, h)) return true;
    }
    return false;
}

bool named_by_connection(std::string_view name, std::span<const Header> fields) {
    for (const Header& f : fields)
        if (iequals(f.name, "connection") && list_contains(f.value, name)) return true;
    return false;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

// The heads it reads are the proxy's own, rebuilt from a back end's head of at most 32 KiB and 100 fields (the
// exchange's scanner) plus the injected cookies.
H1ResponseReader::H1ResponseReader() : scanner_(ResponseLimits{48 * 1024, 200}) {
    line_.reserve(kMaxLine);
    names_.reserve(4096);
    fields_.reserve(32);
}

void H1ResponseReader::start(bool head_request) {
    head_request_ = head_request;
    scanner_.start(head_request);
    phase_ = Phase::head;
    status_ = 0;
    remaining_ = 0;
    line_.clear();
    raw_.clear();
    fields_.clear();
}

H1Step H1ResponseReader::fail(size_t consumed) {
    phase_ = Phase::failed;
    return {consumed, H1Event::error, {}};
}

void H1ResponseReader::keep_fields(std::span<const Header> in, bool trailers, bool keep_length) {
    size_t total = 0;
    for (const Header& f : in) total += f.name.size() + f.value.size();
    names_.clear();
    names_.reserve(total);
    // First copy (names lowercased), then take the views: the copy may move the buffer while it grows.
    spans_.clear();
    for (const Header& f : in) {
        bool drop = hop_by_hop(f.name) || named_by_connection(f.name, in) || f.name.empty();
        if (iequals(f.name, "content-length") && (!keep_length || trailers)) drop = true;
        // Fields that make no sense after the body (RFC 9110 §6.5.1): framing, routing, the content's type.
        if (trailers && (iequals(f.name, "host") || iequals(f.name, "content-type") || iequals(f.name, "set-cookie") ||
                         iequals(f.name, "content-encoding")))
            drop = true;
        if (drop) continue;
        spans_.push_back({names_.size(), f.name.size(), f.value.size()});
        for (char c : f.name) names_ += ascii_lower(c);
        names_.append(f.value);
    }
    fields_.clear();
    for (const FieldSpan& sp : spans_) {
        fields_.push_back({std::string_view(names_.data() + sp.off, sp.name_len),
                           std::string_view(names_.data() + sp.off + sp.name_len, sp.value_len)});
    }
}

H1Step H1ResponseReader::head_step(const char* data, size_t len) {
    const ScanResult r = scanner_.scan(data, len);
    if (r.status == ScanStatus::error) return fail(r.consumed);
    if (r.status == ScanStatus::need_more) return {r.consumed, H1Event::need_more, {}};
    const ResponseHead& h = scanner_.head();
    status_ = h.status;
    if (h.status == 101) return fail(r.consumed);
    if (h.informational()) {
        keep_fields(h.headers, false, false);
        scanner_.start(head_request_);
        return {r.consumed, H1Event::interim, {}};
    }
    if (h.transfer_coded) return fail(r.consumed);  // h2 has no transfer codings: no faithful answer
    keep_fields(h.headers, false, h.framing != BodyFraming::chunked);
    switch (h.framing) {
        case BodyFraming::none: phase_ = Phase::done; break;
        case BodyFraming::content_length:
            remaining_ = h.content_length;
            phase_ = remaining_ == 0 ? Phase::done : Phase::length;
            break;
        case BodyFraming::chunked: phase_ = Phase::size_line; break;
        case BodyFraming::until_close: phase_ = Phase::until_close; break;
    }
    return {r.consumed, H1Event::head, {}};
}

// A chunk-size line, the CRLF after a chunk's data, or a trailer line: collected whole in line_.
H1Step H1ResponseReader::chunk_line_step(const char* data, size_t len) {
    const char* nl = static_cast<const char*>(std::memchr(data, '\n', len));
    const size_t take = nl ? static_cast<size_t>(nl - data) + 1 : len;
    if (line_.size() + take > kMaxLine) return fail(take);
    line_.append(data, take);
    if (!nl) return {take, H1Event::need_more, {}};
    if (line_.size() < 2 || line_[line_.size() - 2] != '\r') return fail(take);
    std::string_view line(line_.data(), line_.size() - 2);
    if (phase_ == Phase::chunk_crlf) {
        if (!line.empty()) return fail(take);
        line_.clear();
        phase_ = Phase::size_line;
        return {take, H1Event::need_more, {}};
    }
    if (phase_ == Phase::size_line) {
        line = line.substr(0, line.find(';'));
        line = trim_ows(line);
        if (line.empty() || line.size() > 15) return fail(take);
        uint64_t size = 0;
        for (char c : line) {
            const int d = hex_digit(c);
            if (d < 0) return fail(take);
            size = size * 16 + static_cast<uint64_t>(d);
        }
        line_.clear();
        remaining_ = size;
        phase_ = size == 0 ? Phase::trailer : Phase::chunk;
        return {take, H1Event::need_more, {}};
    }
    // Trailer section: lines until the empty one.
    if (!line.empty()) {
        if (raw_.size() + line.size() + 1 > kMaxTrailerBytes) return fail(take);
        raw_.append(line);
        raw_ += '\n';
        line_.clear();
        return {take, H1Event::need_more, {}};
    }
    line_.clear();
    phase_ = Phase::done;
    if (raw_.empty()) return {take, H1Event::end, {}};
    std::vector<Header> parsed;  // rare (trailers): a small allocation is fine here
    std::string_view rest = raw_;
    while (!rest.empty()) {
        const size_t end = rest.find('\n');
        const std::string_view l = rest.substr(0, end);
        rest.remove_prefix(end + 1);
        const size_t colon = l.find(':');
        if (colon == std::string_view::npos || colon == 0 || !is_token(l.substr(0, colon))) {
            phase_ = Phase::failed;
            return {take, H1Event::error, {}};
        }
        parsed.push_back({l.substr(0, colon), trim_ows(l.substr(colon + 1))});
    }
    keep_fields(parsed, true, false);
    if (fields_.empty()) return {take, H1Event::end, {}};
    return {take, H1Event::trailers, {}};
}

H1Step H1ResponseReader::step(const char* data, size_t len, size_t max_data) {
    switch (phase_) {
        case Phase::head: return head_step(data, len);
        case Phase::done: return {0, H1Event::end, {}};
        case Phase::failed: return {0, H1Event::error, {}};
        case Phase::until_close: {
            const size_t n = std::min(len, max_data);
            if (n == 0) return {0, H1Event::need_more, {}};
            return {n, H1Event::data, {data, n}};
        }
        case Phase::length:
        case Phase::chunk: {
            const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, std::min(len, max_data)));
            if (n == 0) return {0, H1Event::need_more, {}};
            remaining_ -= n;
            if (remaining_ == 0) phase_ = phase_ == Phase::length ? Phase::done : Phase::chunk_crlf;
            return {n, H1Event::data, {data, n}};
        }
        case Phase::size_line:
        case Phase::chunk_crlf:
        case Phase::trailer:
            if (len == 0) return {0, H1Event::need_more, {}};
            return chunk_line_step(data, len);
    }
    return {0, H1Event::error, {}};
}

H1Event H1ResponseReader::end_of_input() {
    if (phase_ == Phase::until_close || phase_ == Phase::done) {
        phase_ = Phase::done;
        return H1Event::end;
    }
    phase_ = Phase::failed;
    return H1Event::error;
}

}  // namespace dlba::http
