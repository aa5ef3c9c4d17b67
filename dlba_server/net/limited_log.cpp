#include "net/limited_log.hpp"

namespace dlba::server {

void LimitedLog::write(LogKind kind, int64_t now_ms, const std::string& message) {
    const size_t k = static_cast<size_t>(kind);
    if (now_ms - last_ms_[k] < 1000) {
        ++held_back_[k];
        return;
    }
    if (held_back_[k] > 0) {
        std::fprintf(out_, "dlba-server[w%u]: %s (and %llu more like it)\n", worker_, message.c_str(),
                     static_cast<unsigned long long>(held_back_[k]));
    } else {
        std::fprintf(out_, "dlba-server[w%u]: %s\n", worker_, message.c_str());
    }
    last_ms_[k] = now_ms;
    held_back_[k] = 0;
}

}  // namespace dlba::server
