#include <catch2/catch.hpp>

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
    CHECK(wire::load16(b.data() + 4) == 1);       // format
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
        {"magic", 0, 'X'},        {"format", 5, 2},         {"node 0", 7, 0},
        {"unknown flag bit", 32, 8}, {"non-zero padding", 39, 1},
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
