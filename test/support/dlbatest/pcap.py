"""The single-process scheduler tests: dlba-scheduler on DPDK's net_pcap (no namespaces; root for EAL), reading its
input frames from a capture file and writing what it sends to another, in a work directory of its own."""
import os
import struct
import time

from dlbatest.procs import Proc, TempDir

# pcap file header: magic, version 2.4, UTC, accuracy 0, snap length 65535, Ethernet.
PCAP_HEADER = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)


def write_pcap(path, frames=()):
    """A capture of `frames` (bytes each), one a microsecond from time 0; with no frames, an empty capture."""
    with open(path, "wb") as f:
        f.write(PCAP_HEADER)
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(fr), len(fr)) + fr)


class Run:
    """One test script's work directory (NAME-*) and the scheduler it starts there; close() stops the scheduler
    and removes the directory."""

    def __init__(self, binary, name):
        self.binary = binary
        self.name = name
        self.work = TempDir(f"{name}-")
        self.proc = None

    def file(self, name):
        return os.path.join(self.work.path, name)

    def start(self, rx_pcap, args, memory=256):
        """dlba-scheduler on net_pcap: receives the frames of rx_pcap, sends to out.pcap; `args` are its own (after
        '--'); its output in scheduler.log. DPDK file prefix NAME-<pid>."""
        eal = ["--no-huge", "--no-pci", "--no-shconf", "-m", str(memory), "-l", "0", "--log-level=error",
               "--file-prefix", f"{self.name}-{os.getpid()}",
               f"--vdev=net_pcap0,rx_pcap={rx_pcap},tx_pcap={self.file('out.pcap')}"]
        self.proc = Proc([self.binary, *eal, "--", *args], self.file("scheduler.log"), name="dlba-scheduler")
        return self.proc

    def wait_socket(self, path, timeout=15):
        """Until the control socket exists (or the scheduler exits, or `timeout` seconds pass); returns whether it
        exists."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None and not os.path.exists(path):
            time.sleep(0.1)
        return os.path.exists(path)

    def stop(self, timeout=10):
        """SIGTERM to the scheduler (SIGKILL after `timeout` s); its exit status (None if it never started)."""
        return self.proc.stop(timeout) if self.proc else None

    def close(self):
        rc = self.stop()
        self.work.remove()
        return rc
