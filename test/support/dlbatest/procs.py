"""Processes, commands and temporary directories of a test run, and what cleans them up.

Everything a run starts or makes is registered with on_exit(): it is stopped or removed when the interpreter exits
(after the suite's own teardown, which does the same in order) and when SIGTERM or SIGINT arrives (meson sends
SIGTERM on a timeout and SIGKILL 0.5 s later), last registered first. Every wait here is bounded.
"""
import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile

from dlbatest.tap import TestFailure

_cleanups = []  # (at exit, on a signal), in the order registered


def _run_at_exit():
    for at_exit, _ in reversed(_cleanups):
        with contextlib.suppress(Exception):
            at_exit()


def _on_signal(signum, frame):
    for _, on_signal in reversed(_cleanups):
        with contextlib.suppress(Exception):
            on_signal()
    print(f"Bail out! signal {signum}", flush=True)
    os._exit(1)


def on_exit(at_exit, on_signal=None):
    """Registers a cleanup: at_exit() at interpreter exit; on_signal() (default: at_exit) on SIGTERM/SIGINT, which
    must be quick: the process leaves right after."""
    if not _cleanups:
        atexit.register(_run_at_exit)
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
    _cleanups.append((at_exit, on_signal or at_exit))


def run(cmd, ns=None, timeout=30, check_rc=True, input=None, text=True):
    """Runs cmd (a list), inside namespace ns if given; returns the CompletedProcess (text unless text=False)."""
    full = (["ip", "netns", "exec", ns] if ns else []) + [str(c) for c in cmd]
    try:
        cp = subprocess.run(full, capture_output=True, timeout=timeout, input=input, text=text,
                            errors="replace" if text else None,
                            stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise TestFailure(f"command timed out after {timeout}s: {' '.join(full)}") from e
    if check_rc and cp.returncode != 0:
        out = cp.stdout + cp.stderr
        raise TestFailure(f"command failed ({cp.returncode}): {' '.join(full)}\n"
                          f"{out if text else out.decode(errors='replace')}")
    return cp


def read_log(path):
    """The text of a log file (undecodable bytes replaced), or None when it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return None


def log_tail(path, lines=15):
    text = read_log(path)
    return "(no log)" if text is None else "\n".join(text.splitlines()[-lines:])


class Proc(subprocess.Popen):
    """A process with its output appended to a log file, inside network namespace `ns` if given (`ip netns exec`
    execs the binary: the pid is the binary's). Stopped at exit, killed on SIGTERM, if it still runs."""

    def __init__(self, cmd, log_path, ns=None, name=None, **popen_kw):
        self.name = name or os.path.basename(str(cmd[0]))
        self.log_path = log_path
        full = (["ip", "netns", "exec", ns] if ns else []) + [str(c) for c in cmd]
        with open(log_path, "ab") as log:
            super().__init__(full, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, **popen_kw)
        on_exit(lambda: self.stop(timeout=5), self.kill)

    def alive(self):
        return self.poll() is None

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL after `timeout` seconds; returns the exit status."""
        if self.poll() is None:
            self.send_signal(signal.SIGTERM)
            try:
                self.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill_and_wait()
        return self.returncode

    def kill_and_wait(self, timeout=5):
        """SIGKILL (kill -9), and a bounded wait for the end."""
        self.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.wait(timeout)
        return self.returncode

    def tail(self, lines=15):
        return log_tail(self.log_path, lines)


class TempDir:
    """A temporary directory for one run (configurations, logs, certificates, captures), removed by remove(), at
    exit and on SIGTERM."""

    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=prefix)
        on_exit(self.remove)

    def remove(self):
        shutil.rmtree(self.path, ignore_errors=True)


def rss_kb(pid):
    """Resident memory of process `pid` in kB (VmRSS)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
