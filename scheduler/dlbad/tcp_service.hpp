// A TCP listener on eth0 served on its own thread, one request and one answer per connection: the config port and
// the prototype's status daemon.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "io/fd.hpp"

namespace dlba::dlbad {

class TcpService {
public:
    using Handler = std::function<std::string(int client_fd)>;  // the answer; "" closes without one

    explicit TcpService(int write_deadline_ms) : write_deadline_ms_(write_deadline_ms) {}
    ~TcpService();  // stops and joins the thread

    bool open(uint32_t ip, uint16_t port, std::string* err);
    void start(Handler handler);
    void request_stop() { stop_.store(true); }
    void join();

private:
    const int write_deadline_ms_;
    io::Fd listen_fd_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace dlba::dlbad
