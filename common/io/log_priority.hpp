// Syslog priorities on the daemons' log lines, the way journald reads them from a service's stderr: a line that
// starts with "<N>" (0..7; sd-daemon(3)'s SD_ERR is "<3>") is logged at priority N, the prefix removed.
//
// The daemons log with fprintf(stderr, ...), and a line that matters more or less than information says so by
// starting its format with a prefix: "<3>" an error (the daemon stops or refuses), "<4>" a warning, "<5>" a
// notice (a role change, a reload, a node failed), nothing for information (journald's default, 6), "<7>" debug.
// install_stderr_priorities() puts a filter on stderr, once, first thing in main(): when stderr is the journal
// ($JOURNAL_STREAM names stderr's device and inode) every line gets a prefix ("<6>" when it has none); anywhere
// else (a terminal, a test's log file) the prefixes are taken out, so the lines read as they always did.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dlba::io {

// Whether $JOURNAL_STREAM ("DEV:INODE", decimal) names the file whose fstat() gave `dev` and `ino`.
bool journal_stream_matches(std::string_view journal_stream, uint64_t dev, uint64_t ino);

// The filter itself, pure: bytes in, bytes out, lines followed across calls (a prefix may be cut between two).
class PriorityLines {
public:
    enum class Mode { journal, plain };
    explicit PriorityLines(Mode mode, char default_priority = '6') : mode_(mode), default_(default_priority) {}

    // Appends the filtered form of `in` to `out`.
    void feed(std::string_view in, std::string& out);
    // What is held back (the start of a possible prefix), at the end of the stream.
    void finish(std::string& out);

private:
    void emit_held(std::string& out, bool prefix_complete);

    Mode mode_;
    char default_;
    bool line_start_ = true;
    char held_[2] = {};
    size_t held_len_ = 0;
};

// Replaces stderr by the filter (journal or plain, as above), unbuffered like stderr: one write(2) per fprintf.
// Call before any thread starts.
void install_stderr_priorities();

}  // namespace dlba::io
