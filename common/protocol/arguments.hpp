// The control protocol's argument types: how each {placeholder} of a pattern is read from one word into its
// Request field, written back, shown in a usage text, and what the sender is told when the word does not fit.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "protocol/verbs.hpp"

namespace dlba::proto {

struct ArgSpec {
    Arg arg;
    std::string_view name;         // in patterns: {name}
    std::string_view placeholder;  // in usage texts: N, W, MS, ...
    std::span<const std::string_view> choices;  // a word among these (usage shows "a|b|c"); empty: a value
    // Reads `word` into its field; false when it does not fit (choices: not one of them).
    bool (*read)(std::string_view word, Request& into);
    void (*write)(const Request& from, std::string& out);
    // What the sender is told about a word that does not fit a value argument, or about a nested request.
    std::string (*refusal)(std::string_view word);
    // Takes every remaining word: a request inside the request (SHOW, ADMIN), of this access class, for the
    // node's own daemons. read and write are unused then.
    bool rest_of_line = false;
    Access nested_access = Access::read_only;
};

const ArgSpec& arg_spec(Arg arg);
const ArgSpec* arg_named(std::string_view name);

}  // namespace dlba::proto
