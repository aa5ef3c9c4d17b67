// Test helper: test inputs are full of CR, LF and NUL, and the TAP reporter prints INFO messages verbatim, where a
// raw newline would break the TAP stream. printable() escapes them.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace dlba::http::test {

inline std::string printable(std::string_view s) {
    std::string out;
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\\') {
            out += "\\\\";
        } else if (c < 0x20 || c >= 0x7f) {
            char buf[5];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += ch;
        }
    }
    return out;
}

}  // namespace dlba::http::test
