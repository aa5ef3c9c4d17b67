#include "io/log_priority.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace dlba::io {

bool journal_stream_matches(std::string_view journal_stream, uint64_t dev, uint64_t ino) {
    const size_t colon = journal_stream.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == journal_stream.size()) return false;
    uint64_t want_dev = 0;
    uint64_t want_ino = 0;
    const char* dev_end = journal_stream.data() + colon;
    const char* end = journal_stream.data() + journal_stream.size();
    const auto d = std::from_chars(journal_stream.data(), dev_end, want_dev);
    const auto i = std::from_chars(dev_end + 1, end, want_ino);
    if (d.ec != std::errc() || d.ptr != dev_end || i.ec != std::errc() || i.ptr != end) return false;
    return want_dev == dev && want_ino == ino;
}

void PriorityLines::emit_held(std::string& out, bool prefix_complete) {
    // held_ is "<" or "<N": with the '>' that completes it, it is a prefix; otherwise it was text.
    if (prefix_complete) {
        if (mode_ == Mode::journal) {
            out.append(held_, held_len_);
            out += '>';
        }
    } else {
        if (mode_ == Mode::journal) {
            out += '<';
            out += default_;
            out += '>';
        }
        out.append(held_, held_len_);
    }
    held_len_ = 0;
}

void PriorityLines::feed(std::string_view in, std::string& out) {
    for (char c : in) {
        if (line_start_) {
            const bool digit = c >= '0' && c <= '7';
            if (held_len_ == 0 && c == '<') {
                held_[held_len_++] = c;
                continue;
            }
            if (held_len_ == 1 && digit) {
                held_[held_len_++] = c;
                continue;
            }
            if (held_len_ == 2 && c == '>') {
                emit_held(out, true);
                line_start_ = false;
                continue;
            }
            if (held_len_ > 0) {
                emit_held(out, false);
            } else if (mode_ == Mode::journal) {
                out += '<';
                out += default_;
                out += '>';
            }
            line_start_ = false;
            // The character that ended the would-be prefix is ordinary text: handled below.
        }
        out += c;
        if (c == '\n') line_start_ = true;
    }
}

void PriorityLines::finish(std::string& out) {
    if (held_len_ > 0) emit_held(out, false);
}

namespace {

struct StderrFilter {
    int fd = STDERR_FILENO;
    PriorityLines lines;
    std::string out;
};

ssize_t filter_write(void* cookie, const char* buf, size_t size) {
    auto* f = static_cast<StderrFilter*>(cookie);  // called under the FILE's lock: one writer at a time
    f->out.clear();
    f->lines.feed(std::string_view(buf, size), f->out);
    size_t done = 0;
    while (done < f->out.size()) {
        const ssize_t n = ::write(f->fd, f->out.data() + done, f->out.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // nowhere to log to: the bytes are dropped, as fprintf to a closed stderr would
        done += static_cast<size_t>(n);
    }
    return static_cast<ssize_t>(size);
}

}  // namespace

void install_stderr_priorities() {
    PriorityLines::Mode mode = PriorityLines::Mode::plain;
    struct stat st{};
    if (const char* js = std::getenv("JOURNAL_STREAM"); js && fstat(STDERR_FILENO, &st) == 0 &&
                                                       journal_stream_matches(js, st.st_dev, st.st_ino)) {
        mode = PriorityLines::Mode::journal;
    }
    // Lives as long as the process: stderr is used until the very end (atexit handlers, static destructors).
    auto* filter = new StderrFilter{STDERR_FILENO, PriorityLines(mode), {}};
    filter->out.reserve(1024);
    cookie_io_functions_t io{};
    io.write = filter_write;
    std::FILE* f = fopencookie(filter, "w", io);
    if (!f) {
        delete filter;
        return;
    }
    std::setvbuf(f, nullptr, _IONBF, 0);
    std::fflush(stderr);
    stderr = f;  // glibc's stderr is an ordinary variable, meant to be assignable
}

}  // namespace dlba::io
