// The generations one worker holds: the current one always, an older one as long as a session still runs a
// request on it.
#include <catch2/catch.hpp>

#include <memory>

#include "../server_fixture.hpp"
#include "net/generation_slots.hpp"

using namespace dlba;
using namespace dlba::server;

namespace {

const char* kConfig = R"(
backends = ( { key = "a"; address = "10.0.0.1"; } );
services = ( { name = "web"; backends = ["a"]; } );
server = { listeners = ( { port = 80; service = "web"; } ); };
)";

std::shared_ptr<const Generation> generation(uint64_t number) {
    return std::make_shared<const Generation>(test::load_sections(kConfig), 1, 1, number, 0, nullptr);
}

}  // namespace

TEST_CASE("the current generation stays while nobody uses it", "[generations]") {
    GenerationSlots slots;
    std::shared_ptr<const Generation> g1 = generation(1);
    const std::weak_ptr<const Generation> watch = g1;
    CHECK(slots.install(std::move(g1)) == nullptr);  // the first: no previous one to let go
    REQUIRE(slots.current() != nullptr);
    CHECK(slots.generation().number == 1);
    GenerationSlot* held = slots.hold();
    CHECK(held == slots.current());
    CHECK(held->users == 1);
    slots.release(held);
    CHECK(slots.size() == 1);
    CHECK_FALSE(watch.expired());
}

TEST_CASE("an older generation goes with the last session that uses it", "[generations]") {
    GenerationSlots slots;
    std::shared_ptr<const Generation> g1 = generation(1);
    const std::weak_ptr<const Generation> watch = g1;
    slots.install(std::move(g1));
    GenerationSlot* first = slots.hold();   // a request in progress
    GenerationSlot* second = slots.hold();  // another

    GenerationSlot* previous = slots.install(generation(2));
    CHECK(previous == first);
    CHECK(slots.generation().number == 2);
    CHECK(previous->users == 3);  // held across the switch by the worker
    slots.release(previous);      // the worker is done switching its sessions
    CHECK(slots.size() == 2);
    slots.release(first);
    CHECK(slots.size() == 2);
    CHECK_FALSE(watch.expired());
    slots.release(second);  // the last request on generation 1 ended
    CHECK(slots.size() == 1);
    CHECK(watch.expired());
    CHECK(slots.generation().number == 2);
}

TEST_CASE("an older generation nobody uses goes as soon as the worker has switched", "[generations]") {
    GenerationSlots slots;
    std::shared_ptr<const Generation> g1 = generation(1);
    const std::weak_ptr<const Generation> watch = g1;
    slots.install(std::move(g1));
    GenerationSlot* previous = slots.install(generation(2));
    GenerationSlot* on_new = slots.hold();
    CHECK(on_new != previous);
    slots.release(previous);
    CHECK(watch.expired());
    CHECK(slots.size() == 1);
    slots.release(on_new);
    CHECK(slots.size() == 1);  // current: stays
}
