#include <catch2/catch.hpp>

#include <string>

#include "heartbeat.hpp"
#include "wire.hpp"

using namespace dlba;

namespace {

hb::Message sample() {
    hb::Message m;
    m.beat = {7, 0x0102030405060708ULL, true, true, false};
    m.table_version = 42;
    m.config_id = 0xfeedfacecafebeefULL;
    return m;
}

}  // namespace

TEST_CASE("heartbeat round-trips every field and flag") {
    for (int flags = 0; flags < 8; ++flags) {
        hb::Message m = sample();
        m.beat.active = flags & 1;
        m.beat.dataplane_ok = flags & 2;
        m.beat.yielded = flags & 4;
        const auto bytes = hb::encode(m);
        const auto back = hb::decode(bytes.data(), bytes.size());
        REQUIRE(back);
        CHECK(back->beat.node == 7);
        CHECK(back->beat.term == m.beat.term);
        CHECK(back->beat.active == m.beat.active);
        CHECK(back->beat.dataplane_ok == m.beat.dataplane_ok);
        CHECK(back->beat.yielded == m.beat.yielded);
        CHECK(back->table_version == 42);
        CHECK(back->config_id == m.config_id);
    }
}

TEST_CASE("heartbeat layout is the documented big-endian one") {
    const auto b = hb::encode(sample());
    REQUIRE(b.size() == hb::kSize);
    CHECK(wire::load32(b.data()) == 0x444c4248);  // "DLBH"
    CHECK(wire::load16(b.data() + 4) == 2);       // format
    CHECK(wire::load16(b.data() + 6) == 7);       // node
    CHECK(wire::load64(b.data() + 8) == 0x0102030405060708ULL);
    CHECK(wire::load64(b.data() + 16) == 42);
    CHECK(wire::load64(b.data() + 24) == 0xfeedfacecafebeefULL);
    CHECK(b[32] == 3);  // active | dataplane_ok
}

TEST_CASE("a stray or damaged datagram never decodes") {
    const auto good = hb::encode(sample());
    struct Damage {
        const char* what;
        size_t offset;
        uint8_t value;
    };
    const Damage cases[] = {
        {"magic", 0, 'X'},        {"format 1", 5, 1},         {"node 0", 7, 0},
        {"unknown flag bit", 32, 8}, {"non-zero padding", 39, 1}, {"load above 100", 33, 101},
    };
    for (const Damage& d : cases) {
        INFO(d.what);
        auto b = good;
        if (d.offset == 7) b[6] = 0;  // node 0: both bytes
        b[d.offset] = d.value;
        CHECK_FALSE(hb::decode(b.data(), b.size()));
    }
    INFO("node above the largest node number");
    auto big = good;
    wire::store16(big.data() + 6, 256);
    CHECK_FALSE(hb::decode(big.data(), big.size()));
    INFO("short and long datagrams");
    CHECK_FALSE(hb::decode(good.data(), good.size() - 1));
    uint8_t longer[hb::kSize + 1] = {};
    std::copy(good.begin(), good.end(), longer);
    CHECK_FALSE(hb::decode(longer, sizeof longer));
}

TEST_CASE("heartbeat carries the node's load, unknown included") {
    for (const uint8_t load : {uint8_t{0}, uint8_t{37}, uint8_t{100}, hb::kLoadUnknown}) {
        hb::Message m = sample();
        m.load_pct = load;
        const auto b = hb::encode(m);
        CHECK(b[33] == load);
        const auto back = hb::decode(b.data(), b.size());
        REQUIRE(back);
        CHECK(back->load_pct == load);
    }
    hb::Message m = sample();
    m.load_pct = 150;  // out of range on the sender's side: sent as unknown, not as a value peers would refuse
    const auto b = hb::encode(m);
    CHECK(b[33] == hb::kLoadUnknown);
}

TEST_CASE("an old-format heartbeat is refused with its reason, never misparsed") {
    // A format-1 datagram as the previous daemon built it: same size, format 1, byte 33 padding.
    auto b = hb::encode(sample());
    wire::store16(b.data() + 4, 1);
    b[33] = 0;
    hb::Refusal why = hb::Refusal::none;
    CHECK_FALSE(hb::decode(b.data(), b.size(), &why));
    CHECK(why == hb::Refusal::format);
    CHECK(std::string(hb::refusal_name(why)) == "another heartbeat format");
    wire::store16(b.data() + 4, 3);  // a newer one too
    CHECK_FALSE(hb::decode(b.data(), b.size(), &why));
    CHECK(why == hb::Refusal::format);
    const auto good = hb::encode(sample());
    CHECK_FALSE(hb::decode(good.data(), good.size() - 1, &why));
    CHECK(why == hb::Refusal::size);
    CHECK(hb::decode(good.data(), good.size(), &why));
    CHECK(why == hb::Refusal::none);
}
