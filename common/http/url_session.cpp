#include "http/url_session.hpp"

#include "http/syntax.hpp"

namespace dlba::http {

namespace {

// The path and query of a target, without a fragment and without the scheme and authority of absolute-form.
std::string_view path_and_query(std::string_view target) {
    target = target.substr(0, target.find('#'));
    if (istarts_with(target, "http://") || istarts_with(target, "https://")) {
        target.remove_prefix(target.find("//") + 2);
        size_t start = target.find_first_of("/?");
        target = start == std::string_view::npos ? std::string_view() : target.substr(start);
    }
    return target;
}

}  // namespace

std::optional<std::string_view> find_session_id(std::string_view target, std::string_view name, SessionIdIn where) {
    if (name.empty()) return std::nullopt;
    std::string_view rest = path_and_query(target);
    size_t question = rest.find('?');

    if (where == SessionIdIn::query) {
        if (question == std::string_view::npos) return std::nullopt;
        std::string_view query = rest.substr(question + 1);
        while (!query.empty()) {
            size_t amp = query.find('&');
            std::string_view param = query.substr(0, amp);
            query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
            if (param.size() > name.size() && param.substr(0, name.size()) == name && param[name.size()] == '=' &&
                param.size() > name.size() + 1)
                return param.substr(name.size() + 1);
        }
        return std::nullopt;
    }

    // Path parameters: each segment is "segment-name;param=value;param=value".
    std::string_view path = rest.substr(0, question);
    size_t semi = 0;
    while ((semi = path.find(';', semi)) != std::string_view::npos) {
        std::string_view param = path.substr(semi + 1);
        param = param.substr(0, param.find_first_of(";/"));
        if (param.size() > name.size() + 1 && param.substr(0, name.size()) == name && param[name.size()] == '=')
            return param.substr(name.size() + 1);
        ++semi;
    }
    return std::nullopt;
}

}  // namespace dlba::http
