// The one line a back end's load agent answers (HAProxy's agent-check protocol, the subset DLBA acts on). Pure: a
// string in, a report or a refusal out; no I/O, no allocation.
//
// Accepted: one line of at most kMaxAgentLine bytes, ended by LF (CR LF too) or by the end of the input (the agent
// closed the connection), made of words separated by spaces, tabs or commas, case-insensitive:
//   NN%      0..100 (digits only, at most three): the back end's effective weight is its weight x NN %;
//   up       its health is good again;            down | failed | stopped   it takes nothing (health);
//   ready    neither drained nor in maintenance;  drain   no new sessions, those that name it stay;
//   maint    it takes nothing (maintenance);
//   #...     the rest of the line is a comment (HAProxy's "down#reason").
// Each kind (weight, health, admin) may appear once; a second word of the same kind, an unknown word, an empty line,
// a byte that is not printable ASCII, or a line too long is malformed: the caller counts it and changes nothing.
// A word that is not named leaves its kind as it was (so "25%" alone keeps a drain in force, as in HAProxy).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace dlba::http {

constexpr size_t kMaxAgentLine = 256;

enum class AgentHealth : uint8_t { up, down };
enum class AgentAdmin : uint8_t { ready, drain, maint };

struct AgentReport {
    std::optional<uint8_t> percent;  // 0..100
    std::optional<AgentHealth> health;
    std::optional<AgentAdmin> admin;
};

enum class AgentLineError : uint8_t {
    none,
    incomplete,    // no line end yet and the input may grow (see parse_agent_line's `closed`)
    empty,         // no word
    too_long,
    bad_byte,      // a control character or a byte above 0x7e inside the line
    unknown_word,
    bad_percent,   // "%" without digits, more than 100, or digits and letters mixed ("2x%")
    repeated,      // two words of the same kind
};
const char* agent_line_error_name(AgentLineError e);

struct AgentLineResult {
    AgentReport report;
    AgentLineError error = AgentLineError::none;
    bool ok() const { return error == AgentLineError::none; }
};

// `data` is what the agent sent so far; `closed`: it has closed the connection (the line may then end without LF).
// Bytes after the first line end are ignored (HAProxy reads one line).
AgentLineResult parse_agent_line(std::string_view data, bool closed);

}  // namespace dlba::http
