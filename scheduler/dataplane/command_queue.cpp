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

bool run_command(CommandQueue& queue, CommandKind kind, uint16_t node, uint32_t value, std::string* err,
                 const void* payload) {
    auto* cmd = new Command{kind, node, value, payload};
    if (!queue.post(cmd)) {
        delete cmd;
        *err = "data-plane command queue is full";
        return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!cmd->done.load(std::memory_order_acquire)) {
        if (std::chrono::steady_clock::now() > deadline) {
            *err = "data plane did not apply the command within 3 s";
            return false;  // leaked on purpose: see the header
        }
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    const bool ok = cmd->ok;
    delete cmd;
    if (!ok) *err = "data plane refused the command";
    return ok;
}

}  // namespace dlba::sched
