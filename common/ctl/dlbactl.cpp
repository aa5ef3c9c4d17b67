// dlbactl: the operator CLI. Sends one command line to a daemon's control socket and prints the answer.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <variant>

#include "auth/keys.hpp"
#include "ctl/config_push.hpp"
#include "ctl/ctl_args.hpp"
#include "ctl/ctl_output.hpp"
#include "ctl/top.hpp"
#include "io/table_format.hpp"
#include "io/unix_socket.hpp"
#include "protocol/builders.hpp"

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

    if (inv.keygen) {
        const auto key = dlba::auth::generate_key();
        if (!key) {
            std::cerr << "dlbactl: the random number generator failed; no key\n";
            return kExitDaemonError;
        }
        std::cout << dlba::auth::format_key(*key) << "\n";
        return kExitOk;
    }
    if (inv.top) return run_top(inv, std::cout, std::cerr);
    if (!inv.push_file.empty()) {
        return push_config(inv.push_file, std::max(inv.timeout_ms, 15000), std::cout, std::cerr);
    }
    if (inv.all_nodes) return admin_all_nodes(inv.config_path, *inv.command, inv.timeout_ms, std::cout, std::cerr);
    std::string err;
    int code = kExitUnreachable;
    // One request, to the local socket or, with --node, through node N's daemon (read-only tables only).
    const auto ask = [&](const dlba::proto::Request& request) -> std::optional<std::string> {
        if (inv.node != 0) return remote_show(inv.config_path, inv.node, request, inv.timeout_ms, &err, &code);
        return dlba::io::request(inv.socket_path, dlba::proto::format(request), inv.timeout_ms, &err);
    };
    // `raw` sends its line as typed, to the local socket.
    const auto answer =
        inv.command ? ask(*inv.command) : dlba::io::request(inv.socket_path, inv.request, inv.timeout_ms, &err);
    if (!answer) {
        std::cerr << "dlbactl: " << err << "\n";
        return code;
    }
    if (!inv.command || inv.command->verb != dlba::proto::Verb::hash_all) {
        return print_answer(*answer, inv.json, std::cout, std::cerr);
    }

    // The daemon answers `hash all` a page at a time; fetch the rest and print one table.
    const auto first = nlohmann::json::parse(*answer, nullptr, false);
    auto table = dlba::io::Table::from_json(first, &err);
    if (!table) return print_answer(*answer, inv.json, std::cout, std::cerr);
    constexpr int kMaxPages = 4096;  // 4096 pages of 65,536 rows cover the largest table
    for (int page = 1; page < kMaxPages && table->meta.value("next_bucket", nlohmann::json()).is_number(); ++page) {
        const auto from = table->meta["next_bucket"].get<uint64_t>();
        const auto more = ask(dlba::proto::hash_page(static_cast<uint32_t>(from)));
        if (!more) {
            std::cerr << "dlbactl: " << err << "\n";
            return code;
        }
        auto next = dlba::io::Table::from_json(nlohmann::json::parse(*more, nullptr, false), &err);
        if (!next) return print_answer(*more, inv.json, std::cout, std::cerr);
        table->rows.insert(table->rows.end(), std::make_move_iterator(next->rows.begin()),
                           std::make_move_iterator(next->rows.end()));
        table->meta["next_bucket"] = next->meta.value("next_bucket", nlohmann::json());
    }
    return print_answer(table->to_json().dump(), inv.json, std::cout, std::cerr);
}
