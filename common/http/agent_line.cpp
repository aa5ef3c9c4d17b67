#include "http/agent_line.hpp"

namespace dlba::http {

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool word_is(std::string_view w, std::string_view name) {
    if (w.size() != name.size()) return false;
    for (size_t i = 0; i < w.size(); ++i)
        if (lower(w[i]) != name[i]) return false;
    return true;
}

bool is_separator(char c) { return c == ' ' || c == '\t' || c == ','; }

// One word into the report; false with *err set when it is not one we accept.
bool take_word(std::string_view w, AgentReport& r, AgentLineError* err) {
    const auto set_once = [&](auto& slot, auto value) {
        if (slot) {
            *err = AgentLineError::repeated;
            return false;
        }
        slot = value;
        return true;
    };
    if (w.back() == '%') {
        const std::string_view digits = w.substr(0, w.size() - 1);
        if (digits.empty() || digits.size() > 3) {
            *err = AgentLineError::bad_percent;
            return false;
        }
        unsigned v = 0;
        for (char c : digits) {
            if (c < '0' || c > '9') {
                *err = AgentLineError::bad_percent;
                return false;
            }
            v = v * 10 + static_cast<unsigned>(c - '0');
        }
        if (v > 100) {
            *err = AgentLineError::bad_percent;
            return false;
        }
        return set_once(r.percent, static_cast<uint8_t>(v));
    }
    if (word_is(w, "up")) return set_once(r.health, AgentHealth::up);
    if (word_is(w, "down") || word_is(w, "failed") || word_is(w, "stopped")) return set_once(r.health, AgentHealth::down);
    if (word_is(w, "ready")) return set_once(r.admin, AgentAdmin::ready);
    if (word_is(w, "drain")) return set_once(r.admin, AgentAdmin::drain);
    if (word_is(w, "maint")) return set_once(r.admin, AgentAdmin::maint);
    *err = AgentLineError::unknown_word;
    return false;
}

}  // namespace

const char* agent_line_error_name(AgentLineError e) {
    switch (e) {
        case AgentLineError::none: return "none";
        case AgentLineError::incomplete: return "incomplete";
        case AgentLineError::empty: return "empty";
        case AgentLineError::too_long: return "too_long";
        case AgentLineError::bad_byte: return "bad_byte";
        case AgentLineError::unknown_word: return "unknown_word";
        case AgentLineError::bad_percent: return "bad_percent";
        case AgentLineError::repeated: return "repeated";
    }
    return "?";
}

AgentLineResult parse_agent_line(std::string_view data, bool closed) {
    AgentLineResult out;
    const size_t nl = data.find('\n');
    std::string_view line = data.substr(0, nl);
    if (nl == std::string_view::npos) {
        if (line.size() > kMaxAgentLine) return {{}, AgentLineError::too_long};
        if (!closed) return {{}, AgentLineError::incomplete};
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxAgentLine) return {{}, AgentLineError::too_long};
    bool any = false;
    size_t i = 0;
    while (i < line.size()) {
        const char c = line[i];
        if (c == '#') break;  // a comment to the end of the line
        if (is_separator(c)) {
            ++i;
            continue;
        }
        size_t end = i;
        while (end < line.size() && !is_separator(line[end]) && line[end] != '#') {
            const auto b = static_cast<unsigned char>(line[end]);
            if (b < 0x21 || b > 0x7e) return {{}, AgentLineError::bad_byte};
            ++end;
        }
        AgentLineError err = AgentLineError::none;
        if (!take_word(line.substr(i, end - i), out.report, &err)) return {{}, err};
        any = true;
        i = end;
    }
    // Bytes of the comment are checked too: a line is text.
    for (; i < line.size(); ++i) {
        const auto b = static_cast<unsigned char>(line[i]);
        if ((b < 0x20 && b != '\t') || b > 0x7e) return {{}, AgentLineError::bad_byte};
    }
    if (!any) return {{}, AgentLineError::empty};
    return out;
}

}  // namespace dlba::http
