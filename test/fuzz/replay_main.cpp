// Replays a fuzz target over its committed corpus, so every normal test run (no clang, no libFuzzer) still runs every
// input the fuzzer ever found interesting. Prints TAP: one line per corpus file, "ok" when the target returned (an
// invariant failure aborts the process, which the TAP harness reports as a failure).
//
//   fuzz_replay_<target> <corpus dir>...
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        std::error_code ec;
        fs::path arg(argv[i]);
        if (fs::is_regular_file(arg, ec)) {
            files.push_back(arg);
            continue;
        }
        if (!fs::is_directory(arg, ec)) {
            std::printf("Bail out! %s is not a corpus directory\n", argv[i]);
            return 1;
        }
        for (const auto& entry : fs::directory_iterator(arg))
            if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    std::printf("1..%zu\n", files.size());
    std::fflush(stdout);
    size_t n = 0;
    for (const fs::path& file : files) {
        std::ifstream in(file, std::ios::binary);
        std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        // A copy of exactly the file's size, so ASan catches any read past the end as libFuzzer would.
        std::vector<uint8_t> data(bytes.begin(), bytes.end());
        LLVMFuzzerTestOneInput(data.data(), data.size());
        std::printf("ok %zu - %s\n", ++n, file.filename().c_str());
        std::fflush(stdout);
    }
    return 0;
}
