#!/usr/bin/python3
"""What a metrics scrape costs the node's DLBA server (issue 17: < 1 ms of its CPU per scrape, under load).

Brings up scripts/array, keeps a steady load on it (wrk, 4 connections, 10 ms between requests each), then
measures the server process of the active node (utime + stime from /proc/PID/stat): over a window without scrapes,
and over N scrapes of that node's /metrics back to back (from the router). The cost per scrape is the second
window's CPU minus the first window's rate times its length, over N. Prints the figures; not a test.

    sudo PYTHONPATH=test/support DLBA_BUILD_ROOT=build DLBA_SOURCE_ROOT=. test/metrics/bench_scrape.py [N]
"""
import os
import subprocess
import sys
import time

from dlbatest import array
from dlbatest.loadgen import wrk_cmd, wrk_script
from dlbatest.procs import run
from dlbatest.topo import VIP, eth0_ip

HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ  # utime, stime


def main():
    n_scrapes = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    state = {}
    try:
        arr = array.bring_up(state, "dlba-bench-scrape-", [("wrk", "wrk"), ("curl", "curl")])
        node = arr.active_node()
        pid = int(run(["pgrep", "-f", f"dlba-server --config {arr.rundir}/n{node}.conf"]).stdout.split()[0])
        script = wrk_script(state["workdir"], "bench-scrape", delay_ms=10)
        wrk = subprocess.Popen(["ip", "netns", "exec", arr.ns("client")] + wrk_cmd(f"http://{VIP}", script, 120, 4),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        state["wrk"] = wrk
        time.sleep(2)
        # Window A: load only.
        c0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(10)
        c1, t1 = cpu_seconds(pid), time.monotonic()
        rate = (c1 - c0) / (t1 - t0)
        # Window B: load and n scrapes (one curl process fetching the URL n times, over one connection each).
        url = f"http://{eth0_ip(node)}:9100/metrics"
        cfg = os.path.join(state["workdir"], "curl.cfg")
        with open(cfg, "w") as f:
            f.write("".join(f'url = "{url}"\noutput = "/dev/null"\n' for _ in range(n_scrapes)))
        c2, t2 = cpu_seconds(pid), time.monotonic()
        run(["curl", "-s", "--no-keepalive", "-K", cfg], ns=arr.ns("router"), timeout=600)
        c3, t3 = cpu_seconds(pid), time.monotonic()
        extra = (c3 - c2) - rate * (t3 - t2)
        print(f"server pid {pid} (node {node}): load alone {rate * 1000:.1f} ms CPU per s; {n_scrapes} scrapes in "
              f"{t3 - t2:.2f} s used {1000 * (c3 - c2):.0f} ms CPU, {1000 * rate * (t3 - t2):.0f} ms expected "
              f"from the load alone: {1000 * extra / n_scrapes:.3f} ms of server CPU per scrape "
              f"(clock tick {1000 / HZ:.0f} ms)")
    finally:
        array.teardown_state(state)


if __name__ == "__main__":
    main()
