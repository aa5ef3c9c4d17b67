#include "protocol/admin_state.hpp"

#include <charconv>

#include "protocol/builders.hpp"

namespace dlba::proto {

namespace {

// Which setting a request sets, to refuse a file that sets one twice.
struct Slot {
    bool backend;
    std::string key;
    uint16_t node;
    bool weight;
    auto operator<=>(const Slot&) const = default;
};

Slot slot_of(const Request& r) {
    const bool weight = r.verb == Verb::node_weight || r.verb == Verb::backend_weight;
    const bool backend = r.verb != Verb::node_admin && r.verb != Verb::node_weight;
    return {backend, backend ? r.key : std::string(), backend ? uint16_t{0} : r.node, weight};
}

}  // namespace

bool AdminState::record(const Request& r) {
    switch (r.verb) {
        case Verb::node_admin: nodes[r.node].admin = r.admin; return true;
        case Verb::node_weight: nodes[r.node].weight = r.weight; return true;
        case Verb::backend_admin:
        case Verb::backend_in_service:
        case Verb::backend_out_of_service: backends[r.key].mode = backend_mode_of(r); return true;
        case Verb::backend_weight: backends[r.key].weight = r.weight; return true;
        default: return false;
    }
}

std::vector<Request> AdminState::requests() const {
    std::vector<Request> out;
    for (const auto& [key, b] : backends) {
        if (b.mode) out.push_back(backend_mode(key, *b.mode));
        if (b.weight) out.push_back(backend_weight(key, *b.weight));
    }
    for (const auto& [n, s] : nodes) {
        if (s.admin) out.push_back(node_admin(n, *s.admin));
        if (s.weight) out.push_back(node_weight(n, *s.weight));
    }
    return out;
}

size_t AdminState::size() const { return requests().size(); }

std::string format_admin_state(const AdminState& state) {
    std::string out(kAdminStateHeader);
    out += '\n';
    const std::vector<Request> rs = state.requests();
    for (const Request& r : rs) out += format_line(r);
    out += "end " + std::to_string(rs.size()) + "\n";
    return out;
}

AdminStateParsed parse_admin_state(std::string_view text) {
    if (text.size() > kMaxAdminStateBytes) return AdminStateError{0, "larger than 4 MiB"};
    if (text.empty() || text.back() != '\n') return AdminStateError{0, "does not end with a newline (cut short?)"};
    AdminState state;
    std::map<Slot, size_t> seen;
    size_t line_no = 0;
    size_t entries = 0;
    bool ended = false;
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t nl = text.find('\n', pos);  // found: the text ends with one
        const std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        ++line_no;
        if (ended) return AdminStateError{line_no, "text after the end line"};
        if (line_no == 1) {
            if (line != kAdminStateHeader) {
                return AdminStateError{1, "not an admin state file (expected '" + std::string(kAdminStateHeader) + "')"};
            }
            continue;
        }
        if (line.starts_with("end ")) {
            const std::string_view count = line.substr(4);
            size_t n = 0;
            const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
            if (count.empty() || ec != std::errc() || end != count.data() + count.size() ||
                std::to_string(n) != count) {
                return AdminStateError{line_no, "bad end line '" + std::string(line) + "'"};
            }
            if (n != entries) {
                return AdminStateError{line_no, "the end line counts " + std::to_string(n) + " settings, the file has " +
                                                    std::to_string(entries)};
            }
            ended = true;
            continue;
        }
        const Parsed p = parse(line, Daemon::dlbad_monitor);
        const Request* r = std::get_if<Request>(&p);
        if (!r || !is_admin_state(r->verb)) {
            return AdminStateError{line_no, "not an admin setting: '" + std::string(line) + "'"};
        }
        if (format(*r) != line) {
            return AdminStateError{line_no, "not in canonical spelling: '" + std::string(line) + "'"};
        }
        const auto [at, fresh] = seen.emplace(slot_of(*r), line_no);
        if (!fresh) {
            return AdminStateError{line_no, "sets what line " + std::to_string(at->second) + " set"};
        }
        state.record(*r);
        ++entries;
    }
    if (line_no == 0) return AdminStateError{0, "empty"};
    if (!ended) return AdminStateError{line_no, "no end line (cut short?)"};
    return state;
}

}  // namespace dlba::proto
