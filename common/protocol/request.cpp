// Parsing and formatting by walking the verb table: one matcher for every verb, and error messages that say
// which word did not fit (a bad value, an unknown action, too few or too many words) in the sender's spelling.
#include "protocol/request.hpp"

#include <array>
#include <vector>

#include "io/words.hpp"
#include "protocol/arguments.hpp"
#include "protocol/verbs.hpp"

namespace dlba::proto {

namespace {

// Which entries a parse considers.
struct Scope {
    DaemonSet daemons = 0;
    bool offered_only = false;            // dlbactl's commands
    std::optional<Access> access;         // one access class, or any
    bool cli = false;                     // dlbactl's spellings (in the words and in the messages)

    bool admits(const VerbSpec& v) const {
        return (v.served_by & daemons) != 0 && (!offered_only || v.offered) && (!access || v.access == *access);
    }
};

// The node's own daemons, which a SHOW or ADMIN on the config port reaches.
constexpr DaemonSet kLocalDaemons =
    daemon_bit(Daemon::scheduler) | daemon_bit(Daemon::server) | daemon_bit(Daemon::dlbad_monitor);

std::string_view wire_word(std::string_view word, bool cli) {
    if (cli) {
        for (const CliSpelling& s : cli_spellings()) {
            if (word == s.cli) return s.wire;
        }
    }
    return word;
}

std::string_view shown_word(std::string_view word, bool cli) {
    if (cli) {
        for (const CliSpelling& s : cli_spellings()) {
            if (word == s.wire) return s.cli;
        }
    }
    return word;
}

// How a token looks in a usage text: the word, "a|b|c" for a choice, the placeholder for a value.
std::string shown_token(const Token& t, bool cli) {
    if (t.arg == Arg::literal) return std::string(shown_word(t.word, cli));
    const ArgSpec& a = arg_spec(t.arg);
    if (a.choices.empty()) return std::string(a.placeholder);
    std::string out;
    for (std::string_view c : a.choices) {
        if (!out.empty()) out += '|';
        out += c;
    }
    return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep, size_t from = 0) {
    std::string out;
    for (size_t i = from; i < parts.size(); ++i) {
        if (i > from) out += sep;
        out += parts[i];
    }
    return out;
}

std::vector<std::string> shown_tokens(Verb verb, bool cli) {
    std::vector<std::string> out;
    for (const Token& t : tokens(verb)) out.push_back(shown_token(t, cli));
    return out;
}

// The usage of some verbs: one form each, joined by " | ", where a form that extends another is folded into it as
// an optional tail: "hash", "hash all", "hash all FROM_BUCKET" -> "hash [all [FROM_BUCKET]]".
std::string usage_of(const std::vector<Verb>& verbs, bool cli) {
    struct Chain {
        std::vector<std::vector<std::string>> forms;
    };
    std::vector<Chain> chains;
    for (Verb v : verbs) {
        std::vector<std::string> form = shown_tokens(v, cli);
        bool folded = false;
        for (Chain& c : chains) {
            const std::vector<std::string>& last = c.forms.back();
            if (form.size() > last.size() && std::equal(last.begin(), last.end(), form.begin())) {
                c.forms.push_back(std::move(form));
                folded = true;
                break;
            }
        }
        if (!folded) chains.push_back({{std::move(form)}});
    }
    std::vector<std::string> texts;
    for (const Chain& c : chains) {
        std::string text = join(c.forms[0], " ");
        for (size_t i = 1; i < c.forms.size(); ++i) text += " [" + join(c.forms[i], " ", c.forms[i - 1].size());
        text.append(c.forms.size() - 1, ']');
        texts.push_back(std::move(text));
    }
    return join(texts, " | ");
}

std::vector<Verb> verbs_in(const Scope& scope) {
    std::vector<Verb> out;
    for (const VerbSpec& v : verbs()) {
        if (scope.admits(v)) out.push_back(v.verb);
    }
    return out;
}

// Why one entry did not match, and at which word.
struct Miss {
    enum Kind { bad_value, mismatch, missing, extra } kind;
    size_t at;
    std::string message;  // bad_value: what to tell the sender
};

Parsed parse_in(std::span<const std::string_view> words, const Scope& scope);

// Matches one entry's tokens against the words; fills `out` on success.
std::optional<Miss> match(Verb verb, std::span<const std::string_view> words, const Scope& scope, Request& out) {
    out = Request{};
    out.verb = verb;
    const std::span<const Token> pattern = tokens(verb);
    for (size_t i = 0; i < pattern.size(); ++i) {
        const Token& t = pattern[i];
        if (i >= words.size()) {
            // "SHOW" alone: its usage, and what kind of request it lacks
            if (t.arg != Arg::literal && arg_spec(t.arg).rest_of_line) {
                return Miss{Miss::bad_value, i,
                            "usage: " + usage_of({verb}, scope.cli) + " (" + arg_spec(t.arg).refusal("none given") + ")"};
            }
            return Miss{Miss::missing, i, {}};
        }
        const std::string_view word = wire_word(words[i], scope.cli);
        if (t.arg == Arg::literal) {
            if (word != t.word) return Miss{Miss::mismatch, i, {}};
            continue;
        }
        const ArgSpec& a = arg_spec(t.arg);
        if (a.rest_of_line) {
            // A request for the node's daemons, inside this one: of the argument's access class only.
            const Scope inner{kLocalDaemons, false, a.nested_access, false};
            Parsed nested = parse_in(words.subspan(i), inner);
            if (auto* r = std::get_if<Request>(&nested)) {
                out.inner = std::make_shared<const Request>(std::move(*r));
                return std::nullopt;
            }
            std::string rest;
            for (size_t k = i; k < words.size(); ++k) rest += (k > i ? " " : "") + std::string(words[k]);
            return Miss{Miss::bad_value, i, a.refusal(rest)};
        }
        if (!a.read(word, out)) {
            if (!a.choices.empty()) return Miss{Miss::mismatch, i, {}};
            return Miss{Miss::bad_value, i, a.refusal(words[i])};
        }
    }
    if (words.size() > pattern.size()) return Miss{Miss::extra, pattern.size(), {}};
    return std::nullopt;
}

// "node N fail takes no further arguments": the entry with the words the sender gave for its fixed words.
std::string as_given(Verb verb, std::span<const std::string_view> words, bool cli) {
    std::vector<std::string> parts;
    const std::span<const Token> pattern = tokens(verb);
    for (size_t i = 0; i < pattern.size(); ++i) {
        const bool fixed = pattern[i].arg == Arg::literal || !arg_spec(pattern[i].arg).choices.empty();
        parts.push_back(fixed && i < words.size() ? std::string(words[i]) : shown_token(pattern[i], cli));
    }
    return join(parts, " ");
}

// The one message for a line that no entry of its verb's family matched, from the misses that got furthest.
std::string explain(std::span<const std::string_view> words, const std::vector<Verb>& family,
                    const std::vector<Miss>& misses, const Scope& scope) {
    size_t furthest = 0;
    for (const Miss& m : misses) furthest = std::max(furthest, m.at);
    std::vector<Verb> there;
    const Miss* bad_value = nullptr;
    bool mismatch = false;
    bool all_missing = true;
    for (size_t i = 0; i < misses.size(); ++i) {
        const Miss& m = misses[i];
        if (m.at != furthest) continue;
        there.push_back(family[i]);
        if (m.kind == Miss::bad_value && !bad_value) bad_value = &m;
        mismatch = mismatch || m.kind == Miss::mismatch;
        all_missing = all_missing && m.kind == Miss::missing;
    }
    if (bad_value) return bad_value->message;
    if (mismatch) {
        return "unknown " + std::string(words[0]) + " action '" + std::string(words[furthest]) +
               "' (usage: " + usage_of(family, scope.cli) + ")";
    }
    if (all_missing || there.size() > 1) return "usage: " + usage_of(there, scope.cli);
    // One entry, given more words than it takes.
    const std::span<const Token> pattern = tokens(there[0]);
    if (pattern.size() == 1) return std::string(words[0]) + " takes no arguments";
    const Token& last = pattern.back();
    if (last.arg == Arg::literal || !arg_spec(last.arg).choices.empty()) {
        return as_given(there[0], words, scope.cli) + " takes no further arguments";
    }
    return "usage: " + usage_of(there, scope.cli);
}

Parsed parse_in(std::span<const std::string_view> words, const Scope& scope) {
    if (words.empty()) return ParseError{ParseError::Kind::empty, "empty request"};
    std::vector<Verb> family;
    for (const VerbSpec& v : verbs()) {
        if (scope.admits(v) && tokens(v.verb).front().word == wire_word(words[0], scope.cli)) family.push_back(v.verb);
    }
    if (family.empty()) return ParseError{ParseError::Kind::unknown_verb, {}};
    std::vector<Miss> misses;
    Request r;
    for (Verb v : family) {
        auto miss = match(v, words, scope, r);
        if (!miss) return r;
        misses.push_back(std::move(*miss));
    }
    return ParseError{ParseError::Kind::bad_arguments, explain(words, family, misses, scope), family.front()};
}

Scope daemon_scope(Daemon daemon) { return Scope{daemon_bit(daemon), false, std::nullopt, false}; }

Scope command_scope(std::optional<Access> access) {
    return Scope{static_cast<DaemonSet>(0xff), true, access, true};
}

constexpr std::array<std::string_view, 5> kModeNames{"in-service", "oos", "maintenance", "sticky", "failed"};

}  // namespace

const char* backend_mode_name(BackendMode mode) {
    const auto i = static_cast<size_t>(mode);
    return i < kModeNames.size() ? kModeNames[i].data() : "?";
}

std::optional<BackendMode> backend_mode_named(std::string_view name) {
    for (size_t i = 0; i < kModeNames.size(); ++i) {
        if (kModeNames[i] == name) return static_cast<BackendMode>(i);
    }
    return std::nullopt;
}

BackendMode backend_mode_of(const Request& request) {
    switch (request.verb) {
        case Verb::backend_admin:
            switch (request.action) {
                case BackendAction::enable: return BackendMode::in_service;
                case BackendAction::disable: return BackendMode::oos;
                case BackendAction::drain: return BackendMode::sticky;
            }
            break;
        case Verb::backend_out_of_service: return request.mode;
        default: break;
    }
    return BackendMode::in_service;
}

bool is_admin_state(Verb verb) {
    switch (verb) {
        case Verb::node_admin:
        case Verb::node_weight:
        case Verb::backend_admin:
        case Verb::backend_in_service:
        case Verb::backend_out_of_service:
        case Verb::backend_weight: return true;
        default: return false;
    }
}

Parsed parse(std::string_view line, Daemon daemon) {
    const std::vector<std::string_view> words = io::split_words(line);
    Parsed p = parse_in(words, daemon_scope(daemon));
    if (auto* e = std::get_if<ParseError>(&p); e && e->kind == ParseError::Kind::unknown_verb) {
        e->message = "unknown request '" + std::string(line) + "' (" + usage(daemon) + ")";
    }
    return p;
}

Parsed parse_command(std::span<const std::string_view> words, std::optional<Access> access) {
    Parsed p = parse_in(words, command_scope(access));
    if (auto* e = std::get_if<ParseError>(&p); e && e->kind == ParseError::Kind::unknown_verb) {
        e->message = "unknown command '" + std::string(words[0]) + "' (" + command_usage(access) + ")";
    }
    return p;
}

std::string format(const Request& request) {
    std::string out;
    for (const Token& t : tokens(request.verb)) {
        if (!out.empty()) out += ' ';
        if (t.arg == Arg::literal) {
            out += t.word;
            continue;
        }
        const ArgSpec& a = arg_spec(t.arg);
        if (a.rest_of_line) {
            if (request.inner) out += format(*request.inner);
            continue;
        }
        a.write(request, out);
    }
    return out;
}

std::string format_line(const Request& request) { return format(request) + "\n"; }

// The verb table is fixed at compile time, so each usage text is built once (every unknown request quotes one:
// building it each time made a flood of junk lines cost far more than the lines themselves).
std::string usage(Daemon daemon) {
    static const std::array<std::string, kDaemons> texts = [] {
        std::array<std::string, kDaemons> t;
        for (size_t d = 0; d < kDaemons; ++d) t[d] = usage_of(verbs_in(daemon_scope(static_cast<Daemon>(d))), false);
        return t;
    }();
    return texts[static_cast<size_t>(daemon)];
}

std::string command_usage(std::optional<Access> access) {
    // Index 0: any access; 1 + Access otherwise.
    static const std::array<std::string, 4> texts = [] {
        std::array<std::string, 4> t;
        t[0] = usage_of(verbs_in(command_scope(std::nullopt)), true);
        for (size_t a = 0; a < 3; ++a) t[a + 1] = usage_of(verbs_in(command_scope(static_cast<Access>(a))), true);
        return t;
    }();
    return texts[access ? static_cast<size_t>(*access) + 1 : 0];
}

}  // namespace dlba::proto
