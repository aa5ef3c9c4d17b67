#include "tcp_service.hpp"

#include <poll.h>
#include <sys/socket.h>

#include "io/tcp.hpp"

namespace dlba::dlbad {

namespace {
constexpr int kAcceptPollMs = 200;  // how quickly the thread sees a stop
}

TcpService::~TcpService() {
    request_stop();
    join();
}

bool TcpService::open(uint32_t ip, uint16_t port, std::string* err) {
    listen_fd_ = io::tcp_listener(ip, port, err);
    return static_cast<bool>(listen_fd_);
}

void TcpService::start(Handler handler) {
    thread_ = std::thread([this, handler = std::move(handler)] {
        while (!stop_.load(std::memory_order_relaxed)) {
            pollfd p{listen_fd_.get(), POLLIN, 0};
            if (poll(&p, 1, kAcceptPollMs) <= 0) continue;
            io::Fd client(accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (!client) continue;
            const std::string answer = handler(client.get());
            if (!answer.empty()) io::write_all(client.get(), answer, io::deadline_in(write_deadline_ms_));
        }
    });
}

void TcpService::join() {
    if (thread_.joinable()) thread_.join();
}

}  // namespace dlba::dlbad
