// What a refused configuration file reports: the file, the line and why. Every loader entry point returns it.
#pragma once

#include <string>

namespace dlba {

struct ConfigError {
    std::string file;
    int line = 0;  // 0 when the error is not tied to a line (file missing)
    std::string reason;

    std::string str() const;  // "file:line: reason"
};

}  // namespace dlba
