#!/usr/bin/python3
"""An idle scheduler backs off: with no packets arriving, dlba-scheduler must use well under 5% of a core (the
issue's bound), so several schedulers, proxies and back ends can share a small machine. Without the back-off the
poll loop would use 100%. The port is net_pcap on an empty capture (rx never returns a packet).

usage: idle_cpu_test.py DLBA_SCHEDULER CONFIG
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taplib  # noqa: E402

RESULTS = taplib.Results()
check = RESULTS.check


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks


def main():
    sched, config = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="dlba-idle-")
    proc = None
    try:
        empty = os.path.join(work, "empty.pcap")
        with open(empty, "wb") as f:  # a pcap header and no packets
            f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        sock = os.path.join(work, "s.sock")
        eal = ["--no-huge", "--no-pci", "--no-shconf", "-m", "256", "-l", "0", "--log-level=error",
               "--file-prefix", "dlba-idle-%d" % os.getpid(),
               "--vdev=net_pcap0,rx_pcap=%s,tx_pcap=%s" % (empty, os.path.join(work, "out.pcap"))]
        proc = subprocess.Popen([sched, *eal, "--", "--config", config, "--node", "1", "--control-socket", sock],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None and not os.path.exists(sock):
            time.sleep(0.1)
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
    except Exception as e:
        check(False, "harness ran to completion", repr(e))
    finally:
        taplib.stop(proc)
        shutil.rmtree(work, ignore_errors=True)
    return RESULTS.finish()


if __name__ == "__main__":
    sys.exit(main())
