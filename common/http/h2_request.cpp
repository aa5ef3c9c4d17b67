#include "http/h2_request.hpp"

namespace dlba::http {

namespace {

bool has_upper(std::string_view s) {
    for (char c : s)
        if (c >= 'A' && c <= 'Z') return true;
    return false;
}

// RFC 9113 §8.2.2: fields that only mean something on an HTTP/1.1 connection.
bool connection_specific(std::string_view name) {
    return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
           name == "transfer-encoding" || name == "upgrade";
}

}  // namespace

// Nothing reserved up front: one builder lives with each h2 connection, idle ones included; its buffers grow with
// the first requests and keep their capacity from then on.
H2RequestBuilder::H2RequestBuilder(const H2RequestLimits& limits) : limits_(limits) {}

void H2RequestBuilder::start() {
    result_ = {};
    store_.clear();
    fields_.clear();
    headers_.clear();
    cookie_.clear();
    has_method_ = has_path_ = has_authority_ = has_scheme_ = has_host_ = false;
    regular_seen_ = has_length_ = expect_continue_ = false;
    length_ = 0;
    list_bytes_ = 0;
}

void H2RequestBuilder::fail(H2Verdict v, uint16_t status, const char* reason) {
    if (result_.verdict != H2Verdict::ok) return;
    result_ = {v, status, reason};
}

H2RequestBuilder::Span H2RequestBuilder::keep(std::string_view s) {
    const Span sp{static_cast<uint32_t>(store_.size()), static_cast<uint32_t>(s.size())};
    store_.append(s);
    return sp;
}

void H2RequestBuilder::add(std::string_view name, std::string_view value) {
    if (result_.verdict != H2Verdict::ok) return;
    list_bytes_ += name.size() + value.size() + 32;
    if (list_bytes_ > limits_.max_header_list_bytes) return fail(H2Verdict::answer, 431, "header list too large");
    if (name.empty() || has_upper(name)) return fail(H2Verdict::reset, 400, "bad field name");
    if (!is_field_value(value)) return fail(H2Verdict::reset, 400, "bad field value");
    if (name.front() == ':') {
        if (regular_seen_) return fail(H2Verdict::reset, 400, "pseudo field after a regular field");
        const auto once = [&](bool& has, Span& where) {
            if (has) return fail(H2Verdict::reset, 400, "pseudo field repeated");
            has = true;
            where = keep(value);
        };
        if (name == ":method") return once(has_method_, method_);
        if (name == ":path") return once(has_path_, path_);
        if (name == ":authority") return once(has_authority_, authority_);
        if (name == ":scheme") return once(has_scheme_, scheme_);
        return fail(H2Verdict::reset, 400, "unknown pseudo field");  // :status, :protocol (no extended CONNECT)
    }
    regular_seen_ = true;
    for (char c : name)
        if (!is_tchar(c)) return fail(H2Verdict::reset, 400, "bad field name");
    if (connection_specific(name)) return fail(H2Verdict::reset, 400, "connection-specific field");
    if (name == "te") {
        if (value != "trailers") return fail(H2Verdict::reset, 400, "TE other than trailers");
        return;  // hop-by-hop: not forwarded
    }
    if (name == "cookie") {
        // Split cookie fields (RFC 9113 §8.2.3) become one, as an HTTP/1.1 client sends it.
        if (!cookie_.empty() && !value.empty()) cookie_ += "; ";
        cookie_.append(value);
        return;
    }
    if (name == "host") {
        if (has_host_) return fail(H2Verdict::reset, 400, "host repeated");
        has_host_ = true;
        host_ = keep(value);
        return;
    }
    if (name == "content-length") {
        const std::optional<uint64_t> n = parse_content_length(value);
        if (!n || (has_length_ && *n != length_)) return fail(H2Verdict::reset, 400, "bad content-length");
        has_length_ = true;
        length_ = *n;
        return;
    }
    if (name == "expect" && iequals(value, "100-continue")) expect_continue_ = true;
    if (fields_.size() >= limits_.max_header_count) return fail(H2Verdict::answer, 431, "too many header fields");
    const Span n = keep(name);
    fields_.push_back({n, keep(value)});
}

H2Result H2RequestBuilder::finish(bool end_stream, RequestHead& head) {
    if (result_.verdict != H2Verdict::ok) return result_;
    if (!has_method_ || !is_token(view(method_))) {
        fail(H2Verdict::reset, 400, "missing or bad :method");
        return result_;
    }
    const std::string_view method = view(method_);
    if (method == "CONNECT") {
        fail(H2Verdict::answer, 501, "CONNECT is not supported");
        return result_;
    }
    if (!has_scheme_ || !has_path_ || view(path_).empty()) {
        fail(H2Verdict::reset, 400, "missing :scheme or :path");
        return result_;
    }
    const std::string_view path = view(path_);
    TargetForm form = TargetForm::origin;
    if (path == "*") {
        if (method != "OPTIONS") {
            fail(H2Verdict::reset, 400, "asterisk path on a method other than OPTIONS");
            return result_;
        }
        form = TargetForm::asterisk;
    } else if (path.front() != '/') {
        fail(H2Verdict::reset, 400, ":path not in origin form");
        return result_;
    }
    for (char c : path) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
            fail(H2Verdict::reset, 400, "bad :path");
            return result_;
        }
    }
    if (path.size() > limits_.max_target_length) {
        fail(H2Verdict::answer, 414, "path too long");
        return result_;
    }
    std::string_view host = has_authority_ ? view(authority_) : has_host_ ? view(host_) : std::string_view();
    if (has_authority_ && has_host_ && view(host_) != view(authority_)) {
        fail(H2Verdict::reset, 400, ":authority and host differ");
        return result_;
    }
    if (host.empty()) {
        fail(H2Verdict::answer, 400, "no :authority or host");
        return result_;
    }
    for (char c : host) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '/' || c == '@') {
            fail(H2Verdict::reset, 400, "bad :authority");
            return result_;
        }
    }
    if (has_length_ && end_stream && length_ != 0) {
        fail(H2Verdict::reset, 400, "content-length with no body");
        return result_;
    }
    if (has_length_ && limits_.max_body_bytes != 0 && length_ > limits_.max_body_bytes) {
        fail(H2Verdict::answer, 413, "body too large");
        return result_;
    }
    headers_.clear();
    for (const Field& f : fields_) headers_.push_back({view(f.name), view(f.value)});
    if (!cookie_.empty()) headers_.push_back({"cookie", cookie_});
    head = {};
    head.method = method;
    head.target = path;
    head.form = form;
    head.minor_version = 1;
    head.headers = headers_;
    head.host = host;
    if (has_length_) {
        head.framing = BodyFraming::content_length;
        head.content_length = length_;
    } else {
        head.framing = end_stream ? BodyFraming::none : BodyFraming::chunked;
    }
    head.keep_alive = true;
    head.expect_continue = expect_continue_;
    return result_;
}

}  // namespace dlba::http
