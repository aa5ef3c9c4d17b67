#include "rewrite/redirect_writer.hpp"

#include "rewrite/head_fields.hpp"
#include "rewrite/response_writer.hpp"

namespace dlba::server {

void write_redirect_response(const RedirectAnswer& a, std::string& out) {
    out += "HTTP/1.1 ";
    append_number(out, a.code);
    out += ' ';
    out += status_reason(a.code);
    out += "\r\nLocation: ";
    const size_t at = out.size();
    const size_t n = a.location->length(a.request);
    out.resize(at + n);
    a.location->expand(a.request, {out.data() + at, n});
    out += "\r\nContent-Length: 0\r\n";
    if (!a.cookie_name.empty()) {
        out += "Set-Cookie: ";
        out += a.cookie_name;
        out += '=';
        out += a.cookie_value;
        out += "; Path=/\r\n";
    }
    if (a.close) {
        out += "Connection: close\r\n";
    } else if (a.client_minor == 0) {
        out += "Connection: keep-alive\r\n";
    }
    out += "\r\n";
}

}  // namespace dlba::server
