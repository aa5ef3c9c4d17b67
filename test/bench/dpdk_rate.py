#!/usr/bin/python3
"""Receive rate of a running DPDK process's port, read the same way for every application: through DPDK's own
telemetry socket (/ethdev/stats: the PMD's ipackets/opackets), after a warm-up, over a fixed window. Optionally also
samples dlbactl counters at the same two instants, to cross-check the scheduler's own books.

usage: dpdk_rate.py --telemetry SOCKET [--port N] [--warmup S] [--window S] [--timeout S]
                    [--pid PID --thread NAME|main] [--dlbactl BIN --ctl-socket PATH]

Waits (up to --timeout) until the socket answers and the port has received packets, sleeps --warmup, samples,
sleeps --window, samples again, and prints one line of key=value pairs:
  rx_pps tx_pps window_s [cpu_s cpu_share rx_pps_cpu]
  [ctl_rx_pps ctl_forwarded_pps ctl_tx_pps ctl_dropped ctl_idle_sleeps ctl_polls]
With --pid/--thread it also reads the data-plane thread's time on the CPU (/proc/PID/task/TID/schedstat; thread
NAME as in its comm, or "main" for the process's first thread): rx_pps_cpu is packets per second *on the CPU*, which
the time slices other processes take from that core do not change (cpu_share says how much of the window it ran).
Exit status 1 (and a reason on stderr) if the process never became ready.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time


class Telemetry:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.connect(path)
        hello = json.loads(self.sock.recv(65536).decode())
        self.max_len = int(hello.get("max_output_len", 16384))

    def query(self, cmd):
        self.sock.send(cmd.encode())
        return json.loads(self.sock.recv(self.max_len).decode())

    def port_stats(self, port):
        return self.query("/ethdev/stats,%d" % port)["/ethdev/stats"]


def ctl_counters(dlbactl, ctl_socket):
    out = subprocess.run([dlbactl, "--socket", ctl_socket, "--json", "counters"], capture_output=True, text=True,
                         timeout=10)
    if out.returncode != 0:
        raise RuntimeError("dlbactl counters failed: " + out.stderr.strip())
    return {name: value for name, value in json.loads(out.stdout)["rows"]}


def find_thread(pid, name):
    if name == "main":
        return pid
    for tid in sorted(os.listdir("/proc/%d/task" % pid), key=int):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            if f.read().strip() == name:
                return int(tid)
    raise RuntimeError("process %d has no thread named %s" % (pid, name))


def on_cpu_seconds(pid, tid):
    with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
        return int(f.read().split()[0]) / 1e9


def sample(tel, port, ctl, cpu):
    # Taken back to back; the telemetry read is the timed one.
    t = time.monotonic()
    stats = tel.port_stats(port)
    c_s = cpu() if cpu else None
    c = ctl() if ctl else None
    return t, stats, c, c_s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--telemetry", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--window", type=float, default=5.0)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--thread")
    ap.add_argument("--dlbactl")
    ap.add_argument("--ctl-socket")
    a = ap.parse_args()

    deadline = time.monotonic() + a.timeout
    tel, err = None, "telemetry socket %s never appeared" % a.telemetry
    while time.monotonic() < deadline:
        try:
            if tel is None and os.path.exists(a.telemetry):
                tel = Telemetry(a.telemetry)
            if tel is not None and tel.port_stats(a.port)["ipackets"] > 0:
                break
            err = "port %d received nothing" % a.port
        except (OSError, ValueError, KeyError, TypeError) as e:
            tel, err = None, "telemetry: %r" % e
        time.sleep(0.2)
    else:
        print("dpdk_rate: not ready after %.0f s: %s" % (a.timeout, err), file=sys.stderr)
        return 1

    ctl = None
    if a.dlbactl and a.ctl_socket:
        ctl = lambda: ctl_counters(a.dlbactl, a.ctl_socket)  # noqa: E731
    cpu = None
    if a.pid and a.thread:
        tid = find_thread(a.pid, a.thread)
        cpu = lambda: on_cpu_seconds(a.pid, tid)  # noqa: E731
    time.sleep(a.warmup)
    t0, s0, c0, cpu0 = sample(tel, a.port, ctl, cpu)
    time.sleep(a.window)
    t1, s1, c1, cpu1 = sample(tel, a.port, ctl, cpu)
    dt = t1 - t0
    rx = s1["ipackets"] - s0["ipackets"]
    out = {
        "rx_pps": rx / dt,
        "tx_pps": (s1["opackets"] - s0["opackets"]) / dt,
        "window_s": dt,
    }
    if cpu:
        out["cpu_s"] = cpu1 - cpu0
        out["cpu_share"] = (cpu1 - cpu0) / dt
        out["rx_pps_cpu"] = rx / (cpu1 - cpu0) if cpu1 > cpu0 else 0.0
    if ctl:
        out["ctl_rx_pps"] = (c1["rx"] - c0["rx"]) / dt
        out["ctl_forwarded_pps"] = (c1["forwarded"] - c0["forwarded"]) / dt
        out["ctl_tx_pps"] = (c1["tx"] - c0["tx"]) / dt
        out["ctl_dropped"] = c1.get("dropped", 0) - c0.get("dropped", 0)
        out["ctl_idle_sleeps"] = c1.get("idle_sleeps", 0) - c0.get("idle_sleeps", 0)
        out["ctl_polls"] = c1.get("polls", 0) - c0.get("polls", 0)
    print(" ".join("%s=%s" % (k, ("%.0f" % v) if k.endswith("pps") else ("%.3f" % v if isinstance(v, float) else v))
                   for k, v in out.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
