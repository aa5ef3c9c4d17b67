#!/usr/bin/python3
"""An idle scheduler backs off: with no packets arriving, dlba-scheduler must use well under 5% of a core (the
issue's bound), so several schedulers, proxies and back ends can share a small machine. Without the back-off the
poll loop would use 100%. The port is net_pcap on an empty capture (rx never returns a packet).

usage: idle_cpu_test.py DLBA_SCHEDULER CONFIG
"""
import os
import sys
import time

from dlbatest import pcap
from dlbatest.tap import Results

RESULTS = Results()
check = RESULTS.check


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks


def main():
    sched, config = sys.argv[1], sys.argv[2]
    run = pcap.Run(sched, "dlba-idle")

    def body():
        empty = run.file("empty.pcap")
        pcap.write_pcap(empty)  # a pcap header and no packets
        sock = run.file("s.sock")
        proc = run.start(empty, ["--config", config, "--node", "1", "--control-socket", sock])
        run.wait_socket(sock)
        check(proc.poll() is None and os.path.exists(sock), "scheduler starts on an idle port")
        if proc.poll() is None:
            time.sleep(1)  # past start-up
            hz = os.sysconf("SC_CLK_TCK")
            t0, c0 = time.monotonic(), cpu_ticks(proc.pid)
            time.sleep(5)
            t1, c1 = time.monotonic(), cpu_ticks(proc.pid)
            share = (c1 - c0) / hz / (t1 - t0)
            check(share < 0.05, "idle scheduler uses under 5% of a core", "used %.1f%%" % (share * 100))
            print("# idle CPU share: %.2f%% of one core" % (share * 100))

    return RESULTS.run(body, run.close)


if __name__ == "__main__":
    sys.exit(main())
