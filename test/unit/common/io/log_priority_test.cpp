#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "io/log_priority.hpp"

using dlba::io::journal_stream_matches;
using dlba::io::PriorityLines;

TEST_CASE("JOURNAL_STREAM names stderr when its device and inode are stderr's") {
    CHECK(journal_stream_matches("8:123456", 8, 123456));
    CHECK(journal_stream_matches("66311:9", 66311, 9));
    CHECK_FALSE(journal_stream_matches("8:123456", 8, 123457));  // stderr was redirected elsewhere
    CHECK_FALSE(journal_stream_matches("9:123456", 8, 123456));
    CHECK_FALSE(journal_stream_matches("", 8, 123456));
    CHECK_FALSE(journal_stream_matches("8:", 8, 0));
    CHECK_FALSE(journal_stream_matches(":5", 0, 5));
    CHECK_FALSE(journal_stream_matches("8:12x", 8, 12));
    CHECK_FALSE(journal_stream_matches("8-12", 8, 12));
    CHECK_FALSE(journal_stream_matches("-8:12", 8, 12));
}

namespace {

std::string filter(PriorityLines::Mode mode, const std::vector<std::string>& writes) {
    PriorityLines lines(mode);
    std::string out;
    for (const std::string& w : writes) lines.feed(w, out);
    lines.finish(out);
    return out;
}

}  // namespace

TEST_CASE("to the journal every line carries a priority, informational when it named none") {
    const auto journal = PriorityLines::Mode::journal;
    CHECK(filter(journal, {"dlbad[node 1]: running\n"}) == "<6>dlbad[node 1]: running\n");
    CHECK(filter(journal, {"<3>dlbad: configuration refused\n"}) == "<3>dlbad: configuration refused\n");
    CHECK(filter(journal, {"<4>a\n<5>b\nc\n"}) == "<4>a\n<5>b\n<6>c\n");
    CHECK(filter(journal, {"<7>debug\n"}) == "<7>debug\n");
    // Not a prefix: kept as text, behind the default one.
    CHECK(filter(journal, {"<8>x\n", "<x\n", "<3x\n", "<<3>\n"}) == "<6><8>x\n<6><x\n<6><3x\n<6><<3>\n");
    CHECK(filter(journal, {"a <3> in the middle\n"}) == "<6>a <3> in the middle\n");
    CHECK(filter(journal, {"\n"}) == "<6>\n");
}

TEST_CASE("a line and its prefix are followed across writes") {
    const auto journal = PriorityLines::Mode::journal;
    CHECK(filter(journal, {"<", "3", ">stop", "ped\nnext", " line\n"}) == "<3>stopped\n<6>next line\n");
    CHECK(filter(journal, {"<", "x\n"}) == "<6><x\n");
    CHECK(filter(journal, {"<3"}) == "<6><3");  // the stream ended inside what looked like a prefix
    CHECK(filter(PriorityLines::Mode::plain, {"<", "4>", "warn\n"}) == "warn\n");
}

TEST_CASE("anywhere else the prefixes are taken out and the lines read as they always did") {
    const auto plain = PriorityLines::Mode::plain;
    CHECK(filter(plain, {"<3>dlba-server: bad\n<5>notice\nplain\n"}) == "dlba-server: bad\nnotice\nplain\n");
    CHECK(filter(plain, {"no prefix\n"}) == "no prefix\n");
    CHECK(filter(plain, {"<9>not one\n"}) == "<9>not one\n");
    CHECK(filter(plain, {"usage: x\n  --a  b <3>\n"}) == "usage: x\n  --a  b <3>\n");
}
