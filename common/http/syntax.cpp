#include "http/syntax.hpp"

namespace dlba::http {

const char* body_framing_name(BodyFraming framing) {
    switch (framing) {
        case BodyFraming::none: return "none";
        case BodyFraming::content_length: return "content-length";
        case BodyFraming::chunked: return "chunked";
        case BodyFraming::until_close: return "until-close";
    }
    return "?";
}

HttpError parse_field_line_strict(std::string_view line, Header& out, uint16_t error_status) {
    if (!line.empty() && is_ows(line.front())) return {error_status, "obs-fold"};
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return {error_status, "field line without colon"};
    std::string_view name = line.substr(0, colon);
    if (name.empty()) return {error_status, "empty field name"};
    // Checked apart from is_token so the counter says what happened: "Content-Length : 5" is a classic smuggle.
    if (is_ows(name.back())) return {error_status, "whitespace before colon"};
    if (!is_token(name)) return {error_status, "invalid field name"};
    std::string_view value = trim_ows(line.substr(colon + 1));
    if (!is_field_value(value)) return {error_status, "invalid character in field value"};
    out = {name, value};
    return {};
}

}  // namespace dlba::http
