// A connection's buffers and the worker's pool of them: memory goes back to the pool when a connection's buffer is
// empty and comes out again for the next one, so warm connections never allocate.
#include <catch2/catch.hpp>

#include <string>

#include "net/buffers.hpp"

using namespace dlba::server;

TEST_CASE("a released input buffer's memory is handed to the next connection", "[buffers]") {
    BufferPool pool;
    InBuffer a;
    CHECK_FALSE(a.attached());
    pool.attach(a);
    REQUIRE(a.attached());
    const char* memory = a.space();
    a.commit(10);
    pool.attach(a);  // attaching an attached buffer keeps its bytes
    CHECK(a.size() == 10);
    pool.release(a);
    CHECK_FALSE(a.attached());
    CHECK(a.empty());

    InBuffer b;
    pool.attach(b);
    CHECK(b.space() == memory);
    CHECK(b.empty());  // nothing of the previous connection's bytes
}

TEST_CASE("an input buffer makes room at its end by moving unprocessed bytes to the front", "[buffers]") {
    BufferPool pool;
    InBuffer in;
    pool.attach(in);
    char* const start = in.space();
    for (size_t i = 0; i < InBuffer::kSize; ++i) start[i] = static_cast<char>('a' + i % 26);
    in.commit(InBuffer::kSize);
    CHECK(in.space_size() == 0);  // full: the client is not read (back-pressure)
    in.consume(100);
    CHECK(in.space_size() == 100);
    char* const room = in.space();  // compacts
    CHECK(room == start + InBuffer::kSize - 100);
    CHECK(in.data() == start);
    CHECK(in.data()[0] == static_cast<char>('a' + 100 % 26));
    CHECK(in.size() == InBuffer::kSize - 100);
    in.consume(in.size());
    CHECK(in.empty());
    CHECK(in.space_size() == InBuffer::kSize);  // all consumed: both positions back to the start
}

TEST_CASE("written output is dropped, except a request kept for sending again", "[buffers]") {
    BufferPool pool;
    OutBuffer out;
    pool.attach(out);
    out.text() = "HTTP/1.1 200 OK\r\n\r\n";
    out.consume(5);
    CHECK(out.pending() == out.text().size() - 5);
    out.consume(out.pending());
    CHECK(out.empty());
    CHECK(out.text().empty());  // all written: cleared

    out.keep(true);  // a replayable request head: kept until the answer starts
    out.text() = "GET / HTTP/1.1\r\n\r\n";
    const size_t head = out.text().size();
    out.consume(head);
    CHECK(out.empty());
    CHECK(out.text().size() == head);
    out.rewind();  // the pooled connection was closed: send it again
    CHECK(out.pending() == head);
    out.consume(head);
    out.keep(false);  // the answer started: what is written goes
    CHECK(out.text().empty());
}

TEST_CASE("a long response drops what is written once past 64 kB and half the buffer", "[buffers]") {
    BufferPool pool;
    OutBuffer out;
    pool.attach(out);
    out.text().assign(200 * 1024, 'x');
    out.consume(60 * 1024);  // under 64 kB written: kept in place
    CHECK(out.text().size() == 200 * 1024);
    out.consume(50 * 1024);  // 110 kB written of 200: dropped
    CHECK(out.text().size() == 90 * 1024);
    CHECK(out.pending() == 90 * 1024);
}

TEST_CASE("an output buffer keeps its capacity through the pool unless it grew past 256 kB", "[buffers]") {
    BufferPool pool;
    OutBuffer a;
    pool.attach(a);
    a.text().reserve(8 * 1024);
    const size_t capacity = a.text().capacity();
    a.text() = "abc";
    pool.release(a);
    CHECK_FALSE(a.attached());
    CHECK(a.empty());
    OutBuffer b;
    pool.attach(b);
    CHECK(b.text().empty());
    CHECK(b.text().capacity() == capacity);  // the same string came back

    OutBuffer huge;
    pool.attach(huge);
    huge.text().assign(300 * 1024, 'y');
    pool.release(huge);  // one huge head is not worth keeping
    pool.release(b);
    OutBuffer c;
    pool.attach(c);
    CHECK(c.text().capacity() == capacity);  // b's string, not the huge one
    OutBuffer d;
    pool.attach(d);
    CHECK(d.text().capacity() < 300 * 1024);
}
