#include "command_queue.hpp"

#include <chrono>
#include <thread>

#include <rte_lcore.h>

namespace dlba::sched {

CommandQueue::CommandQueue(const std::string& name)
    : ring_(rte_ring_create(name.c_str(), 64, static_cast<int>(rte_socket_id()), RING_F_SC_DEQ)) {}

CommandQueue::~CommandQueue() {
    if (ring_) rte_ring_free(ring_);
}

const char* outcome_text(CommandOutcome outcome) {
    switch (outcome) {
        case CommandOutcome::applied: return "";
        case CommandOutcome::refused: return "data plane refused the command";
        case CommandOutcome::queue_full: return "data-plane command queue is full";
        case CommandOutcome::timed_out: return "data plane did not apply the command within 3 s";
    }
    return "?";
}

CommandOutcome run_command(CommandQueue& queue, CommandKind kind, uint16_t node, uint32_t value, const void* payload,
                           std::chrono::milliseconds timeout) {
    auto* cmd = new Command{kind, node, value, payload};
    if (!queue.post(cmd)) {
        delete cmd;
        return CommandOutcome::queue_full;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!cmd->done.load(std::memory_order_acquire)) {
        if (std::chrono::steady_clock::now() > deadline) return CommandOutcome::timed_out;  // leaked: see the header
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    const bool ok = cmd->ok;
    delete cmd;
    return ok ? CommandOutcome::applied : CommandOutcome::refused;
}

}  // namespace dlba::sched
