"""The whole Pentaflow of scripts/array for the end-to-end tests: a client behind a router, three nodes each running
dlba-scheduler, dlba-server and dlbad, three nginx back ends; the byte counters that tell where traffic went; and
the end of every e2e script (stopping what it started)."""
import contextlib
import json
import os
import shutil
import subprocess

from dlbatest import ctl, tap
from dlbatest.paths import ARRAY, BUILD_ROOT, SOURCE_ROOT
from dlbatest.procs import TempDir, log_tail, run
from dlbatest.tap import Suite, TestFailure, check
from dlbatest.topo import NODES, Topology


def _array_env():
    """scripts/array finds its binaries at $DLBA_ROOT/$DLBA_BUILD_DIR: give it our build tree relative to the source
    root (it may be outside it: '../x' works too), and ctl.ctl() our dlbactl."""
    env = dict(os.environ)
    env["DLBA_BUILD_DIR"] = os.path.relpath(os.path.realpath(BUILD_ROOT), os.path.realpath(SOURCE_ROOT))
    ctl_exe = os.environ.get("DLBA_DLBACTL") or os.path.join(BUILD_ROOT, "common", "ctl", "dlbactl")
    env["DLBA_DLBACTL"] = ctl_exe
    os.environ["DLBA_DLBACTL"] = ctl_exe
    return env


ENV = _array_env()


def need_program(path, package):
    check(shutil.which(path) is not None,
          f"{path} is not installed (Debian package {package}; scripts/test installs it through ensure_packages)")


class Array(Topology):
    """`scripts/array up PREFIX` on enter, `scripts/array down PREFIX` on exit, at interpreter exit and on
    SIGTERM/SIGINT (there as scripts/topo down, which stops the same processes: the Topology's teardown)."""

    def __init__(self, prefix=None, pmd="af_packet"):
        super().__init__(prefix or f"de{os.getpid()}", nginx=False)
        self.pmd = pmd

    def _bring_up(self):
        cp = subprocess.run([ARRAY, "up", self.prefix, self.pmd], env=ENV, capture_output=True, text=True,
                            timeout=150, stdin=subprocess.DEVNULL)
        self.up = True
        if cp.returncode != 0:
            raise TestFailure(f"scripts/array up {self.prefix} failed ({cp.returncode}):\n{cp.stdout}{cp.stderr}")
        Suite.diag(cp.stdout.strip())

    def _take_down(self):
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run([ARRAY, "down", self.prefix], env=ENV, capture_output=True, timeout=120,
                           stdin=subprocess.DEVNULL)

    # sockets of node n
    def sock(self, n, kind):
        return os.path.join(self.rundir, f"n{n}.{kind}.sock")

    def ca(self):
        return os.path.join(self.rundir, "tls", "ca.pem")

    def server_cert(self):
        return os.path.join(self.rundir, "tls", "server.crt")

    def active(self, exclude=()):
        """The node whose scheduler reports role active (None when none does)."""
        for n in NODES:
            if n in exclude:
                continue
            doc = ctl.ctl_json(self.sock(n, "sched"), "status", check_rc=False, timeout=3)
            if doc and doc.get("meta", {}).get("role") == "active":
                return n
        return None

    def active_node(self):
        """The active node; a TestFailure when no scheduler is active."""
        n = self.active()
        check(n, "no active scheduler")
        return n

    def sched_counters(self, n):
        return ctl.pairs(ctl.ctl_json(self.sock(n, "sched"), "counters", timeout=5))

    def server_counters(self, n):
        """dlba-server's status counters of node n (requests, responses_2xx, bytes_out, ...)."""
        return ctl.pairs(ctl.ctl_json(self.sock(n, "server"), "status", timeout=5))

    def all_server_counters(self):
        return {n: self.server_counters(n) for n in NODES}

    def scheduler_pids(self, n):
        """Process ids of node n's dlba-scheduler (its DPDK --file-prefix is PREFIX-nN)."""
        cp = run(["pgrep", "-f", f"file-prefix {self.prefix}-n{n} "], check_rc=False)
        return [int(p) for p in cp.stdout.split()]

    def logs_tail(self, lines=8):
        out = []
        for n in NODES:
            for kind in ("scheduler", "server", "dlbad"):
                path = os.path.join(self.rundir, f"n{n}.{kind}.log")
                if os.path.exists(path):
                    out.append(f"--- n{n}.{kind}.log")
                    out.append(log_tail(path, lines))
        return "\n".join(out)


def link_bytes(ns, dev):
    """(rx bytes, tx bytes) of interface dev in namespace ns, from the kernel's counters."""
    doc = json.loads(run(["ip", "-j", "-s", "link", "show", "dev", dev], ns=ns).stdout)
    st = doc[0]["stats64"]
    return st["rx"]["bytes"], st["tx"]["bytes"]


class Traffic:
    """Snapshot of every byte counter that tells where the response bytes went: the client's eth0, each node's
    eth0 and scheduler port (sch0, DPDK's transmissions show on the veth), the scheduler's own counters and each
    dlba-server's counters."""

    def __init__(self, arr):
        self.client_rx, self.client_tx = link_bytes(arr.ns("client"), "eth0")
        self.eth0_tx = {n: link_bytes(arr.ns(f"n{n}"), "eth0")[1] for n in NODES}
        self.sch0_tx = {n: link_bytes(arr.ns(f"n{n}"), "sch0")[1] for n in NODES}
        self.sched = {n: arr.sched_counters(n) for n in NODES}
        self.server = arr.all_server_counters()

    @staticmethod
    def delta(a, b):
        """What happened between snapshots a and b."""
        d = {
            "client_rx": b.client_rx - a.client_rx,
            "client_tx": b.client_tx - a.client_tx,
            "eth0_tx": {n: b.eth0_tx[n] - a.eth0_tx[n] for n in NODES},
            "sch0_tx": {n: b.sch0_tx[n] - a.sch0_tx[n] for n in NODES},
            "sched": {n: {k: b.sched[n].get(k, 0) - a.sched[n].get(k, 0) for k in b.sched[n]} for n in NODES},
            "server": {n: {k: b.server[n].get(k, 0) - a.server[n].get(k, 0) for k in b.server[n]
                           if isinstance(b.server[n].get(k), int)} for n in NODES},
        }
        return d


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024.0
    return str(n)


def teardown_state(state):
    """Stops what a script left in its `state`: threads (stop_flag), processes ("procs", "wrk"), the browser, the
    array, the work directory. Each step is bounded and runs even if an earlier one failed."""
    for t in state.get("threads", []):
        t.stop_flag.set()
    procs = list(state.get("procs", [])) + ([state["wrk"]] if state.get("wrk") else [])
    for p in procs:
        if p.poll() is None:
            p.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(5)
    if state.get("browser"):
        state["browser"].close()
    if state.get("array"):
        state["array"].down()
    if state.get("workdir"):
        shutil.rmtree(state["workdir"], ignore_errors=True)


def server_generations(arr):
    """{node: the configuration generation its DLBA server runs}, from each server's status meta."""
    return {n: ctl.ctl_json(arr.sock(n, "server"), "status", timeout=5)["meta"].get("config_generation")
            for n in NODES}


def push_config(state, text, name):
    """Writes `text` to the work directory as `name`, pushes it to the array with `dlbactl config push` from node 1
    and waits (20 s at most) until every node's server runs a new generation. Returns the file's path."""
    arr = state["array"]
    path = os.path.join(state["workdir"], name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    before = server_generations(arr)
    cp = run([os.environ["DLBA_DLBACTL"], "config", "push", path], ns=arr.ns("n1"), timeout=60, check_rc=False)
    check(cp.returncode == 0, f"the push failed: {cp.stdout} {cp.stderr}")
    tap.wait_until(lambda: all(server_generations(arr)[n] != before[n] for n in NODES), 20, 0.5,
                   "every server to reload")
    return path


# ---- the beginning and the end of every e2e script -------------------------------------------------------------

def bring_up(state, workdir_prefix, programs=()):
    """The setup every e2e script starts with: the programs it drives are installed ((path, Debian package) each),
    it has a work directory, and the array is up; all kept in `state` for teardown_state."""
    for path, package in programs:
        need_program(path, package)
    arr = Array()
    state["array"] = arr
    state["workdir"] = TempDir(workdir_prefix).path
    arr.__enter__()
    return arr


def main(suite, state, setup, diagnostics=None):
    """Runs an e2e suite: `diagnostics` (default: the tails of the array's logs) for every failing case,
    teardown_state at the end; exits with the suite's status."""
    suite.diag_hooks.append(diagnostics or (lambda: state["array"].logs_tail(6) if state.get("array") else ""))
    tap.main(suite, setup, lambda: teardown_state(state))
