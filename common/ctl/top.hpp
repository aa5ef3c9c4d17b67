// `dlbactl top`: live rates, like `ipvsadm -L --rate`. Two samples of the scheduler's status table (per node:
// frames and bytes forwarded, the sweep's hits) and of the DLBA server's backends table (per back end: requests
// sent, errors), `interval` apart; the rates are the differences over the time between the samples. `--count N`
// prints N rounds (bounded), each against the sample before it.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "ctl/ctl_args.hpp"
#include "io/table_format.hpp"

namespace dlba::ctl {

// Per node of `after`: node, state, packets/s, bytes/s, hits/s (null where either sample does not know it), and
// the gauges as they are now. `seconds` > 0.
io::Table node_rates(const io::Table& before, const io::Table& after, double seconds);
// Per back end of `after`: key, state, requests/s, errors/s, open connections, average response time.
io::Table backend_rates(const io::Table& before, const io::Table& after, double seconds);

// Samples, prints and returns the exit code (ExitCode).
int run_top(const Invocation& inv, std::ostream& out, std::ostream& err);

}  // namespace dlba::ctl
