// The config push's messages are part of the control protocol now: protocol/push.hpp (replies, config_id) and the
// PREPARE / COMMIT / ABORT / SHOW / ADMIN verbs of protocol/verbs.cpp. This name stays for the code that still
// includes it.
#pragma once

#include "protocol/push.hpp"

namespace dlba {
namespace push = proto::push;
}  // namespace dlba
