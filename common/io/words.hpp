// Splitting a control request line ("node 3 drain") into its words: the one parser every control socket uses.
#pragma once

#include <string_view>
#include <vector>

namespace dlba::io {

// Words separated by spaces, tabs or carriage returns; empty words are skipped. The views point into `line`.
inline std::vector<std::string_view> split_words(std::string_view line) {
    std::vector<std::string_view> words;
    size_t i = 0;
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (i < line.size()) {
        while (i < line.size() && space(line[i])) ++i;
        const size_t start = i;
        while (i < line.size() && !space(line[i])) ++i;
        if (i > start) words.push_back(line.substr(start, i - start));
    }
    return words;
}

}  // namespace dlba::io
