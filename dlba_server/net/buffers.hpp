// Buffers for a connection's bytes, and per-worker free lists so that warm connections never allocate.
//
// A connection holds buffers only while it has bytes in them: an idle keep-alive connection gives its buffers back
// to the worker's pool, so ten thousand idle connections cost their small Session objects and nothing more.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dlba::server {

// Bytes read from a socket and not yet processed: a fixed-size block with a read and a write position.
class InBuffer {
public:
    static constexpr size_t kSize = 16 * 1024;

    bool attached() const { return mem_ != nullptr; }
    const char* data() const { return mem_.get() + begin_; }
    size_t size() const { return end_ - begin_; }
    bool empty() const { return begin_ == end_; }
    // Room to read into at the end, after moving unprocessed bytes to the front when that makes room.
    char* space() {
        if (begin_ > 0 && end_ == kSize) compact();
        return mem_.get() + end_;
    }
    size_t space_size() const { return kSize - end_ + (end_ == kSize ? begin_ : 0); }
    void commit(size_t n) { end_ += n; }
    void consume(size_t n) {
        begin_ += n;
        if (begin_ == end_) begin_ = end_ = 0;
    }

private:
    friend class BufferPool;
    void compact() {
        std::memmove(mem_.get(), mem_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    std::unique_ptr<char[]> mem_;
    size_t begin_ = 0, end_ = 0;
};

// Bytes waiting to be written to a socket: appended at the end, written from the front. The string keeps its
// capacity while pooled. `keep()` retains written bytes (they can be sent again with rewind()) for a request that
// may be replayed on another back-end connection.
class OutBuffer {
public:
    bool attached() const { return attached_; }
    std::string& text() { return data_; }  // append here
    const char* pending_data() const { return data_.data() + sent_; }
    size_t pending() const { return data_.size() - sent_; }
    bool empty() const { return pending() == 0; }
    void consume(size_t n) {
        sent_ += n;
        if (sent_ == data_.size() && !keep_) {
            data_.clear();
            sent_ = 0;
        } else if (!keep_ && sent_ > 64 * 1024 && sent_ * 2 > data_.size()) {
            data_.erase(0, sent_);  // a long-lived large response: drop what is written now and then
            sent_ = 0;
        }
    }
    void keep(bool k) {
        keep_ = k;
        if (!k) consume(0);
    }
    void rewind() { sent_ = 0; }
    void clear() {
        data_.clear();
        sent_ = 0;
        keep_ = false;
    }

private:
    friend class BufferPool;
    std::string data_;
    size_t sent_ = 0;
    bool keep_ = false;
    bool attached_ = false;
};

// One per worker (no locks). Hands out memory to connections and takes it back when they are empty.
class BufferPool {
public:
    void attach(InBuffer& b) {
        if (b.mem_) return;
        if (free_in_.empty()) {
            b.mem_.reset(new char[InBuffer::kSize]);
        } else {
            b.mem_ = std::move(free_in_.back());
            free_in_.pop_back();
        }
        b.begin_ = b.end_ = 0;
    }
    void release(InBuffer& b) {
        if (!b.mem_) return;
        if (free_in_.size() < kMaxFree) free_in_.push_back(std::move(b.mem_));
        b.mem_.reset();
        b.begin_ = b.end_ = 0;
    }
    void attach(OutBuffer& b) {
        if (b.attached_) return;
        if (!free_out_.empty()) {
            b.data_ = std::move(free_out_.back());
            free_out_.pop_back();
        }
        b.data_.clear();
        b.sent_ = 0;
        b.keep_ = false;
        b.attached_ = true;
    }
    void release(OutBuffer& b) {
        if (!b.attached_) return;
        // A buffer that grew for one huge head is not worth keeping.
        if (free_out_.size() < kMaxFree && b.data_.capacity() <= 256 * 1024) {
            b.data_.clear();
            free_out_.push_back(std::move(b.data_));
        }
        b.data_ = std::string();
        b.sent_ = 0;
        b.keep_ = false;
        b.attached_ = false;
    }

private:
    static constexpr size_t kMaxFree = 1024;
    std::vector<std::unique_ptr<char[]>> free_in_;
    std::vector<std::string> free_out_;
};

}  // namespace dlba::server
