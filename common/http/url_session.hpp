// Session id in the URL: the persistence policy for applications that carry their session in the request target
// instead of a cookie ("/cart?sid=ABC", "/app/page.jsp;jsessionid=ABC"). The id is mapped to a back end with the
// consistent hash (ConsistentHash::choose), so every node decides the same without sharing any state.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace dlba::http {

enum class SessionIdIn : uint8_t {
    query,  // "?sid=ABC" or "&sid=ABC"
    path,   // ";jsessionid=ABC" as a path parameter of any segment
};

// The raw (not percent-decoded) value of parameter `name` in a request target (origin- or absolute-form), or nullopt
// when it is absent or empty. Names compare case-sensitively. The first non-empty occurrence wins.
std::optional<std::string_view> find_session_id(std::string_view target, std::string_view name, SessionIdIn where);

}  // namespace dlba::http
