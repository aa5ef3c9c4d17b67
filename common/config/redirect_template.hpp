// A redirect service's URL template (seed 002's LocalDirector `url` strings): literal text with the macros %h (the
// request's host, without its port), %s (the request's port), %d (the request's path without its leading '/'),
// %q (the query with its '?', empty when there is none) and %% (a '%'). Parsed once when the file is loaded into a
// compiled form; expanded per request into a buffer the caller provides, so the request path never allocates.
// Pure: no libconfig, no sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dlba {

// What a request gives the macros. Every view must hold only characters legal in a URL (the request parser's
// target and Host rules guarantee that), so an expansion never needs escaping.
struct RedirectRequest {
    std::string_view host;   // %h
    std::string_view port;   // %s
    std::string_view path;   // %d
    std::string_view query;  // %q, "?..." or empty
};

class RedirectTemplate {
public:
    enum class Part : uint8_t { literal, host, port, path, query };
    struct Piece {
        Part part = Part::literal;
        uint32_t offset = 0;  // literal: into text()
        uint32_t length = 0;
    };

    // The compiled form of `text`, or nullopt and `*error` says why (an unknown macro, a '%' at the end, a
    // character a URL may not hold, or a result that is not an absolute http(s) URL with a host).
    static std::optional<RedirectTemplate> parse(std::string_view text, std::string* error);

    // Writes the URL for `request` into `out` when it fits and returns its length either way; a caller whose buffer
    // was too small grows it to the length returned and calls again.
    size_t expand(const RedirectRequest& request, std::span<char> out) const;
    // The length expand() would return.
    size_t length(const RedirectRequest& request) const;

    const std::string& source() const { return source_; }  // as written in the file
    std::span<const Piece> pieces() const { return pieces_; }

private:
    std::string source_;
    std::string literals_;  // every literal piece's bytes, '%%' already reduced to '%'
    std::vector<Piece> pieces_;
};

// The parts of a request target as the macros see them: "/a/b?x=1" -> path "a/b", query "?x=1". An absolute-form
// target ("http://h/a") gives the path after its authority; "*" and an empty target give an empty path.
void split_target(std::string_view target, std::string_view& path, std::string_view& query);

}  // namespace dlba
