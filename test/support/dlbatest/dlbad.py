"""dlbad, the node daemon, on a node of a topology, beside that node's scheduler."""
import os

from dlbatest import ctl
from dlbatest.paths import dlbad_binary
from dlbatest.procs import Proc
from dlbatest.tap import TestFailure, wait_until


def start_dlbad(topo, node, config, scheduler_socket, monitor_socket, log_path):
    """Starts dlbad on node N; returns its Proc (see wait_dlbad for when it answers)."""
    cmd = [dlbad_binary(), "--config", config, "--node", node, "--scheduler-socket", scheduler_socket,
           "--monitor-socket", monitor_socket,
           # its admin state beside its socket: the nodes of a topology share one file system
           "--admin-state", os.path.join(os.path.dirname(monitor_socket), f"n{node}.admin.state")]
    return Proc(cmd, log_path, ns=topo.ns(f"n{node}"), name=f"dlbad n{node}")


def wait_dlbad(proc, node, monitor_socket, timeout=10):
    """Until dlbad's monitor socket answers `failover`."""
    def ready():
        if not proc.alive():
            raise TestFailure(f"dlbad on n{node} exited ({proc.returncode}):\n{proc.tail()}")
        return ctl.ask(monitor_socket, "failover") is not None
    wait_until(ready, timeout, 0.1, f"the monitor socket of dlbad on n{node}")
    return proc
