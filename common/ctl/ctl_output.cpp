#include "ctl/ctl_output.hpp"

#include <ostream>

#include <nlohmann/json.hpp>

#include "ctl/ctl_args.hpp"
#include "io/table_format.hpp"

namespace dlba::ctl {

int print_answer(std::string_view answer, bool json, std::ostream& out, std::ostream& err) {
    const auto doc = nlohmann::json::parse(answer, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
        err << "error: the daemon's answer is not JSON\n";
        return kExitDaemonError;
    }
    const bool is_table = doc.is_object() && doc.contains("format") && doc.at("format") == "dlba-table";

    // Validate before printing, also for --json: scripts must not consume a table dlbactl would refuse.
    std::string why;
    if (is_table) {
        auto table = io::Table::from_json(doc, &why);
        if (!table) {
            err << "error: invalid table from the daemon: " << why << "\n";
            return kExitDaemonError;
        }
        if (json)
            out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        else
            out << io::render_text(*table);
        return kExitOk;
    }
    auto reply = io::reply_from_json(doc, &why);
    if (!reply) {
        err << "error: invalid answer from the daemon: " << why << "\n";
        return kExitDaemonError;
    }
    if (json)
        out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    else if (reply->ok)
        out << "ok" << (reply->text.empty() ? "" : ": " + reply->text) << "\n";
    else
        err << "error: " << reply->text << "\n";
    return reply->ok ? kExitOk : kExitDaemonError;
}

}  // namespace dlba::ctl
