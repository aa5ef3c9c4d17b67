// dlbactl's requests to the node daemons' config ports (push, --node, --all-nodes), sealed as the operator
// (sender 0) with the first peer key of the configuration dlbactl was given (`config push FILE`: FILE's keys, so
// a rotation step signs with the key it makes first; --node and --all-nodes: --config's), and their answers
// checked: from the node asked, bound to our request, signed with one of those keys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "auth/peer_guard.hpp"
#include "auth/signer.hpp"
#include "config/array_config.hpp"

namespace dlba::ctl {

class PeerClient {
public:
    explicit PeerClient(const ArrayConfig& config);

    // One request line (and body), one reply line (without its '\n'). nullopt, with the reason in *err, when the
    // node cannot be reached, does not answer, or its answer does not authenticate.
    std::optional<std::string> exchange(uint32_t ip, uint16_t node, uint16_t port, const std::string& request,
                                        int timeout_ms, std::string* err);

private:
    auth::Signer signer_;
    auth::PeerGuard guard_;
};

}  // namespace dlba::ctl
