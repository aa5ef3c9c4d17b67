// dlbactl: the operator CLI. Sends one command line to a daemon's control socket and prints the answer.
#include <cstdlib>
#include <iostream>
#include <string>
#include <variant>

#include "ctl/ctl_args.hpp"
#include "ctl/ctl_output.hpp"
#include "io/unix_socket.hpp"

int main(int argc, char** argv) {
    using namespace dlba::ctl;
    const ParseResult parsed = parse_args(argc, argv, std::getenv("DLBA_SOCKET"));
    if (std::holds_alternative<ShowHelp>(parsed)) {
        std::cout << usage_text();
        return kExitOk;
    }
    if (const auto* e = std::get_if<UsageError>(&parsed)) {
        std::cerr << "dlbactl: " << e->message << "\n"
                  << "Usage: dlbactl [--socket PATH] [--json] [--timeout MS] COMMAND... (see --help)\n";
        return kExitUsage;
    }
    const auto& inv = std::get<Invocation>(parsed);

    std::string err;
    const auto answer = dlba::io::request(inv.socket_path, inv.request, inv.timeout_ms, &err);
    if (!answer) {
        std::cerr << "dlbactl: " << err << "\n";
        return kExitUnreachable;
    }
    return print_answer(*answer, inv.json, std::cout, std::cerr);
}
