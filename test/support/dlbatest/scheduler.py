"""dlba-scheduler on a node of a topology: DPDK on the AF_PACKET (or AF_XDP) PMD over sch0, with its own control
socket, DPDK file prefix and log in the topology's run directory."""
import os

from dlbatest import ctl
from dlbatest.paths import scheduler_binary
from dlbatest.procs import Proc
from dlbatest.tap import TestFailure, check, wait_until


class Scheduler:
    """dlba-scheduler on node N; role None starts it without --role (standby, for dlbad to elect)."""

    starts = 0  # every start gets a DPDK file prefix and a log of its own

    def __init__(self, topo, node, config, role="standby", pmd="af_packet"):
        Scheduler.starts += 1
        self.topo = topo
        self.node = node
        self.role = role
        self.socket = os.path.join(topo.rundir, f"n{node}.sock")
        file_prefix = f"{topo.prefix}-n{node}-{Scheduler.starts}"
        self.file_prefix = file_prefix  # DPDK runtime directory /var/run/dpdk/PREFIX (telemetry socket)
        cmd = [scheduler_binary(), "--no-huge", "--no-pci", "--no-shconf", "-m", "512", "-l", "0",
               "--file-prefix", file_prefix, "--log-level", "lib.eal:warning",
               f"--vdev=net_{pmd}0,iface=sch0",
               "--", "--config", config, "--node", node, "--control-socket", self.socket]
        if role:
            cmd += ["--role", role]
        log = os.path.join(topo.rundir, f"scheduler-n{node}-{Scheduler.starts}.log")
        self.proc = Proc(cmd, log, ns=topo.ns(f"n{node}"), name=f"scheduler n{node}")

    def wait_ready(self, timeout=30, interval=0.2):
        """Until the control socket answers (with the role it was started in, if any)."""
        def ready():
            if not self.proc.alive():
                raise TestFailure(f"dlba-scheduler on n{self.node} exited ({self.proc.returncode}):\n"
                                  f"{self.proc.tail()}")
            doc = ctl.ask(self.socket, "status")
            return doc is not None and "meta" in doc and (self.role is None or doc["meta"].get("role") == self.role)
        try:
            wait_until(ready, timeout, interval, f"the control socket of the scheduler on n{self.node}")
        except TestFailure as e:
            raise TestFailure(f"{e}\n{self.proc.tail()}") from None
        return self

    def ctl(self, *args, **kw):
        return ctl.ctl(self.socket, *args, **kw)

    def json(self, *args, **kw):
        return ctl.ctl_json(self.socket, *args, **kw)

    def counters(self):
        doc = self.json("counters")
        check(doc is not None, f"no counters from n{self.node}")
        return ctl.pairs(doc)

    def status_rows(self):
        """{node number: {column: value}} from `dlbactl status`."""
        doc = self.json("status")
        check(doc is not None, f"no status from n{self.node}")
        return ctl.rows_by(doc)

    def buckets(self):
        return {n: r["buckets"] for n, r in self.status_rows().items()}

    def stop(self):
        return self.proc.stop(timeout=5)
