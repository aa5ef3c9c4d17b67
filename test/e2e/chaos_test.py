#!/usr/bin/python3
"""Chaos under load (issue 10), one minute of it: `scripts/chaos --minutes 1` brings up its own array (scripts/array),
runs wrk, long downloads and cookie sessions through the VIP while it kills and restarts a random process or a whole
node every few seconds, pushes the configuration and sends SIGHUPs, then checks that every failure is attributed to a
fault, downloads on untouched nodes are intact, the tables agree across nodes and nothing leaked. This case asserts
its exit status, and that the run really covered what it claims (faults of every kind, a takeover, a push, a SIGHUP,
intact downloads, requests, a leak check) by reading its report. A random seed each run (printed, replayable with
--seed). The caller holds /tmp/dlba-integration.lock, as for every integration test, so the script is told not to
take it. TAP; root.
"""
import os
import re
import signal
import subprocess
import threading

from dlbatest.paths import SOURCE_ROOT
from dlbatest.tap import Suite, check, main

suite = Suite("e2e-chaos")
CHAOS = os.path.join(SOURCE_ROOT, "scripts", "chaos")
state = {}


def figure(pattern, text, what):
    m = re.search(pattern, text)
    check(m, f"the chaos report has no {what} (pattern {pattern!r})")
    return [int(g) for g in m.groups()]


@suite.case("scripts/chaos --minutes 1: kills and restarts of schedulers, servers, dlbads, back ends and whole nodes "
            "under wrk, downloads and cookie sessions; every failure attributed, tables agree, no leak", timeout=200)
def chaos_one_minute():
    p = subprocess.Popen([CHAOS, "--minutes", "1", "--no-lock"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, errors="replace")
    state["proc"] = p
    lines = []

    def pump():
        for line in p.stdout:
            lines.append(line)
            Suite.diag(line.rstrip("\n"))
    t = threading.Thread(target=pump, daemon=True)
    t.start()
    try:
        rc = p.wait(190)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)   # scripts/chaos takes its array down on SIGTERM
            p.wait(30)
    t.join(10)
    out = "".join(lines)
    check(rc == 0 and "chaos: OK" in out, f"scripts/chaos exited {rc}: see its report above")
    faults, takeovers, pushes, hups = figure(
        r"(\d+) faults \(.*?\), (\d+) takeovers of the active scheduler, (\d+) config pushes, (\d+) SIGHUPs", out,
        "fault summary")
    kinds = dict((k, int(v)) for k, v in re.findall(r"(sched|server|dlbad|nginx|node) (\d+)",
                                                    re.search(r"faults \((.*?)\)", out).group(1)))
    check(faults >= 6 and all(kinds.get(k, 0) >= 1 for k in ("sched", "server", "dlbad", "nginx", "node")),
          f"the run did not cover every kind of fault: {faults} faults {kinds}")
    check(takeovers >= 1 and pushes >= 1 and hups >= 1, f"takeovers {takeovers}, pushes {pushes}, SIGHUPs {hups}")
    wrk_requests, = figure(r"wrk: \d+ slices of 2 s, (\d+) requests", out, "wrk figure")
    downloads, intact = figure(r"downloads: (\d+) of 20 MiB, (\d+) intact", out, "download figure")
    sess, sess_ok = figure(r"cookie-session requests .*?: (\d+), (\d+) ok", out, "session figure")
    survivors, = figure(r"leak check: (\d+) processes lived through the whole run", out, "leak check")
    check(wrk_requests > 1000 and intact >= 5 and sess_ok > 100 and survivors >= 3,
          f"too little load or checking: wrk {wrk_requests}, downloads {intact}/{downloads} intact, sessions "
          f"{sess_ok}/{sess}, long-lived processes {survivors}")


def teardown():
    p = state.get("proc")
    if p and p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()


if __name__ == "__main__":
    main(suite, None, teardown)
