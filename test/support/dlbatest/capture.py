"""tcpdump in a namespace of a topology while a block of a test runs: what else crossed an interface, for the
diagnostics of a failing case."""
import os
import subprocess
import time


class Capture:
    """tcpdump (text, no name resolution) in a namespace until stop(), which returns its packet lines.
    Diagnostics only."""

    def __init__(self, topo, role, dev, bpf, limit=200):
        self.path = os.path.join(topo.rundir, f"capture-{role}-{time.monotonic_ns()}.txt")
        self.limit = limit
        self.out = open(self.path, "w")
        self.p = subprocess.Popen(["ip", "netns", "exec", topo.ns(role), "tcpdump", "-l", "-n", "-tt", "-c",
                                   str(limit), "-i", dev, bpf], stdout=self.out, stderr=subprocess.DEVNULL,
                                  stdin=subprocess.DEVNULL)

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(3)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(3)
        self.out.close()
        with open(self.path) as f:
            return [line for line in f.read().splitlines() if line[:1].isdigit()]
