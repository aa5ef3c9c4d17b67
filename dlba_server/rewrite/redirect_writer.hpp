// The answer of a redirect service (seed 002's HTTP redirection): the status line for the service's redirect code,
// `Location` expanded from the chosen back end's URL template straight into the output buffer, `Content-Length: 0`,
// the injected cookie when the service persists sessions by cookie, and `Connection: close` when the connection
// ends after it. Pure; appends to a buffer whose capacity a warm worker keeps, so it does not allocate.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/redirect_template.hpp"

namespace dlba::server {

struct RedirectAnswer {
    uint16_t code = 302;
    const RedirectTemplate* location = nullptr;
    RedirectRequest request;
    std::string_view cookie_name;  // empty: no Set-Cookie
    std::string_view cookie_value;
    bool close = false;
    uint8_t client_minor = 1;  // an HTTP/1.0 client that keeps the connection is told so
};

void write_redirect_response(const RedirectAnswer& a, std::string& out);

}  // namespace dlba::server
