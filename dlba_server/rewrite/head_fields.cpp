#include "rewrite/head_fields.hpp"

namespace dlba::server {

using http::iequals;

bool is_hop_by_hop(std::string_view name) {
    for (std::string_view h : {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
                               "upgrade", "content-length"}) {
        if (iequals(name, h)) return true;
    }
    return false;
}

}  // namespace dlba::server
