"""The failover harness (test/failover and scripts/bench-failover): dlba-scheduler, started without a role, and
dlbad on every node of a topology, dlbad electing the active one; and what the tests read of it."""
import contextlib
import os
import subprocess

from dlbatest import ctl
from dlbatest.dlbad import start_dlbad, wait_dlbad
from dlbatest.procs import run
from dlbatest.scheduler import Scheduler
from dlbatest.tap import wait_until
from dlbatest.topo import NODES

DEFAULT_HASH_SEED = 0x6a09e667f3bcc908   # SchedulerConfig::hash_seed's default in common/config/scheduler_section.hpp
M64 = (1 << 64) - 1


def bucket_of_mix(size, seed, ip, port):
    """common/bucket_hash.hpp MixHash, for tests that must know which bucket a client port lands in."""
    a, b, c, d = (int(x) for x in ip.split("."))
    x = ((((a << 24) | (b << 16) | (c << 8) | d) << 16) | port) ^ seed
    x ^= x >> 33
    x = (x * 0xff51afd7ed558ccd) & M64
    x ^= x >> 33
    x = (x * 0xc4ceb9fe1a85ec53) & M64
    x ^= x >> 33
    return ((x >> 32) * size) >> 32


class Array:
    """dlba-scheduler (started without --role: standby) and dlbad on every node of a topology; dlbad elects."""

    def __init__(self, topo, config, pmd="af_packet"):
        self.topo = topo
        self.config = config
        self.pmd = pmd
        self.sched = {}   # node -> Proc
        self.dlbad = {}   # node -> Proc
        self.dlbad_starts = 0

    # sockets
    def sock(self, n):
        return os.path.join(self.topo.rundir, f"n{n}.sock")

    def mon(self, n):
        return os.path.join(self.topo.rundir, f"n{n}-dlbad.sock")

    # processes
    def start_scheduler(self, n, timeout=30):
        s = Scheduler(self.topo, n, self.config, role=None, pmd=self.pmd)
        self.sched[n] = s.proc
        s.wait_ready(timeout, interval=0.1)
        return s.proc

    def start_dlbad(self, n, timeout=10):
        self.dlbad_starts += 1
        log = os.path.join(self.topo.rundir, f"dlbad-n{n}-{self.dlbad_starts}.log")
        p = start_dlbad(self.topo, n, self.config, self.sock(n), self.mon(n), log)
        self.dlbad[n] = p
        return wait_dlbad(p, n, self.mon(n), timeout)

    def start_nginx(self, n):
        d = os.path.join(self.topo.rundir, f"n{n}")
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(d, "nginx.pid"))
        run(["nginx", "-p", d, "-c", os.path.join(d, "nginx.conf"), "-e", os.path.join(d, "error.log")],
            ns=self.topo.ns(f"n{n}"))
        wait_until(lambda: os.path.exists(os.path.join(d, "nginx.pid")), 5, 0.1, f"nginx on n{n}")

    def start_all(self):
        for n in NODES:
            self.start_scheduler(n)
        for n in NODES:
            self.start_dlbad(n)
        return self.wait_one_active(timeout=10)

    def stop_all(self):
        for p in list(self.dlbad.values()) + list(self.sched.values()):
            with contextlib.suppress(Exception):
                p.stop(timeout=5)

    @staticmethod
    def kill9(proc):
        """SIGKILL to the process itself (ip netns exec execs it: the pid is the binary's)."""
        proc.kill_and_wait()

    def kill_namespace(self, n):
        """kill -9 every process in node n's namespace (nginx, scheduler, dlbad, anything else). Returns the pids."""
        ns = self.topo.ns(f"n{n}")
        pids = [int(p) for p in run(["ip", "netns", "pids", ns]).stdout.split()]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
        for p in (self.sched.get(n), self.dlbad.get(n)):
            if p:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(5)
        wait_until(lambda: not run(["ip", "netns", "pids", ns]).stdout.strip(), 5, 0.05,
                   f"every process of n{n} to be gone")
        return pids

    # views
    def roles(self):
        """{node: 'active'|'standby'|None} as each scheduler reports it."""
        out = {}
        for n in NODES:
            p = self.sched.get(n)
            doc = ctl.ask(self.sock(n), "status", timeout=1) if p and p.alive() else None
            out[n] = doc["meta"].get("role") if doc and "meta" in doc else None
        return out

    def actives(self):
        return [n for n, r in self.roles().items() if r == "active"]

    def failover(self, n):
        return ctl.ask(self.mon(n), "failover")

    def wait_one_active(self, timeout=10, exclude=()):
        """Exactly one active scheduler, and every running dlbad names it as the active; returns its node."""
        def one():
            a = self.actives()
            if len(a) != 1 or a[0] in exclude:
                return None
            for n, p in self.dlbad.items():
                if not p.alive():
                    continue
                doc = self.failover(n)
                if not doc or doc["meta"].get("active") != a[0]:
                    return None
            return a[0]
        return wait_until(one, timeout, 0.05, "exactly one active scheduler that every dlbad agrees on")

    def sched_json(self, n, *args):
        return ctl.ctl_json(self.sock(n), *args)

    def status_rows(self, n):
        return ctl.rows_by(self.sched_json(n, "status"))

    def buckets(self, n):
        return {k: r["buckets"] for k, r in self.status_rows(n).items()}

    def bucket_of(self, n, ip, port):
        """The bucket of client ip:port on node n's scheduler (the 'mix' hash of common/bucket_hash.hpp, default
        seed: the failover tests do not set scheduler.hash_seed)."""
        meta = self.sched_json(n, "hash")["meta"]
        assert meta["hash"] == "mix", meta
        return bucket_of_mix(meta["table_size"], DEFAULT_HASH_SEED, ip, port)

    def bucket_map(self, n):
        """{bucket: (node, idle_s)} of every assigned bucket (dlbactl hash --all, all pages)."""
        doc = self.sched_json(n, "hash", "--all")
        return doc.get("version"), {r[0]: (r[1], r[2]) for r in doc["rows"]}

    def version(self, n):
        doc = ctl.ask(self.sock(n), "status")
        return doc.get("version") if doc else None

    def standbys_synced(self, active):
        """True when every running standby's table version equals the active's."""
        v = self.version(active)
        if v is None:
            return False
        for n, p in self.sched.items():
            if n == active or not p.alive():
                continue
            if self.version(n) != v:
                return False
        return True

    def log_tails(self, lines=6):
        out = []
        for what, procs in (("scheduler", self.sched), ("dlbad", self.dlbad)):
            for n, p in sorted(procs.items()):
                out.append(f"--- {what} n{n} ({p.log_path}) alive={p.alive()}")
                out.append(p.tail(lines))
        return "\n".join(out)
