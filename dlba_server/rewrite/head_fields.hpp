// The pieces both rebuilt heads are made of (the request the back end sees, the response the client sees): which
// fields stop at this hop, one field line, a number in text.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "http/syntax.hpp"

namespace dlba::server {

// True for the fields RFC 9110 §7.6.1 says a proxy must not forward, plus the framing fields this proxy writes
// itself. Case-insensitive.
bool is_hop_by_hop(std::string_view name);
// A field named by a Connection header of this message is hop-by-hop too (RFC 9110 §7.6.1).
bool named_by_connection(std::string_view name, std::span<const http::Header> headers);

// "<name>: <value>\r\n"
void append_field(std::string& out, std::string_view name, std::string_view value);
// `value` in decimal (or another base), without allocating.
void append_number(std::string& out, uint64_t value, int base = 10);

}  // namespace dlba::server
