// What becomes of a command: applied or refused by the data plane, not posted when the queue is full, or not
// applied in time. Each is an outcome the control plane decides on (never a message it searches).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "../eal_once.hpp"
#include "dataplane/command_queue.hpp"

using namespace dlba::sched;
using namespace std::chrono_literals;

namespace {

// The data plane's side, in a thread: takes commands and answers each with `ok`.
class FakeDataPlane {
public:
    FakeDataPlane(CommandQueue& queue, bool ok) : thread_([this, &queue, ok] {
          while (!stop_.load()) {
              Command* cmds[8];
              const unsigned n = queue.take(cmds, 8);
              for (unsigned i = 0; i < n; ++i) {
                  cmds[i]->ok = ok;
                  cmds[i]->done.store(true, std::memory_order_release);
              }
              std::this_thread::sleep_for(50us);
          }
      }) {}
    ~FakeDataPlane() {
        stop_.store(true);
        thread_.join();
    }

private:
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace

TEST_CASE("a command the data plane applies, or refuses", "[command_queue]") {
    dlba::testing::eal_once("command_queue_test");
    CommandQueue queue("ut_cq_applied");
    REQUIRE(queue.valid());
    {
        FakeDataPlane dp(queue, true);
        CHECK(run_command(queue, CommandKind::set_weight, 2, 5) == CommandOutcome::applied);
    }
    {
        FakeDataPlane dp(queue, false);
        CHECK(run_command(queue, CommandKind::set_weight, 2, 5) == CommandOutcome::refused);
    }
    CHECK(std::string(outcome_text(CommandOutcome::refused)) == "data plane refused the command");
    CHECK(std::string(outcome_text(CommandOutcome::applied)).empty());
}

TEST_CASE("a full queue refuses the command at once", "[command_queue]") {
    dlba::testing::eal_once("command_queue_test");
    CommandQueue queue("ut_cq_full");
    std::vector<Command> backlog(64);
    size_t posted = 0;
    for (Command& c : backlog) posted += queue.post(&c) ? 1 : 0;
    CHECK(posted < backlog.size());  // the ring holds one less than its size
    const auto start = std::chrono::steady_clock::now();
    CHECK(run_command(queue, CommandKind::touch_all, 0, 0) == CommandOutcome::queue_full);
    CHECK(std::chrono::steady_clock::now() - start < 1s);
    CHECK(std::string(outcome_text(CommandOutcome::queue_full)) == "data-plane command queue is full");
    Command* out[64];
    CHECK(queue.take(out, 64) == posted);
}

TEST_CASE("a command not applied in time is left to the data plane", "[command_queue]") {
    dlba::testing::eal_once("command_queue_test");
    CommandQueue queue("ut_cq_timeout");
    CHECK(run_command(queue, CommandKind::touch_all, 0, 0, nullptr, 20ms) == CommandOutcome::timed_out);
    // Still queued (deliberately not freed): the data plane may get to it late, and must find it intact.
    Command* late = nullptr;
    REQUIRE(queue.take(&late, 1) == 1);
    CHECK(late->kind == CommandKind::touch_all);
    delete late;
}
