"""A whole node of the namespace array killed (kill -9 of every process in its namespace) and started again the way
scripts/array starts it: its scheduler, DLBA server and dlbad, each in its own session, logs appended to RUN/nN.*.log.
Used by e2e/admin_state and e2e/direct_ip."""
import os
import signal
import subprocess

from dlbatest import ctl
from dlbatest.paths import BUILD_ROOT
from dlbatest.procs import run
from dlbatest.tap import check, wait_until


def kill_node(arr, n):
    """kill -9 of every process in node n's namespace; waits until they are gone."""
    pids = [int(p) for p in run(["ip", "netns", "pids", arr.ns(f"n{n}")]).stdout.split()]
    check(len(pids) >= 3, f"node {n} runs {pids}")
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_until(lambda: not run(["ip", "netns", "pids", arr.ns(f"n{n}")]).stdout.split(), 10, 0.1,
               f"node {n}'s processes to die")
    for kind in ("sched", "server", "dlbad"):
        path = arr.sock(n, kind)
        if os.path.exists(path):
            os.unlink(path)


def _start_in_node(arr, n, argv, log_name):
    with open(os.path.join(arr.rundir, log_name), "ab") as log:
        subprocess.Popen(["ip", "netns", "exec", arr.ns(f"n{n}"), "setsid"] + [str(a) for a in argv],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)


def _answers(arr, n, kind, table):
    return ctl.ctl_json(arr.sock(n, kind), table, check_rc=False, timeout=3) is not None


def start_node(arr, n):
    """Node n's three daemons again, each waited for on its socket."""
    conf = os.path.join(arr.rundir, f"n{n}.conf")
    _start_in_node(arr, n, [os.path.join(BUILD_ROOT, "scheduler", "dlba-scheduler"), "--no-huge", "--no-pci",
                            "--no-shconf", "-m", "512", "-l", n % 2, "--file-prefix", f"{arr.prefix}-n{n}",
                            "--log-level", "lib.eal:warning", f"--vdev=net_{arr.pmd}0,iface=sch0", "--", "--config",
                            conf, "--node", n, "--control-socket", arr.sock(n, "sched")], f"n{n}.scheduler.log")
    wait_until(lambda: _answers(arr, n, "sched", "status"), 30, 0.2, f"node {n}'s scheduler")
    _start_in_node(arr, n, [os.path.join(BUILD_ROOT, "dlba_server", "dlba-server"), "--config", conf, "--node", n,
                            "--monitor-socket", arr.sock(n, "server")], f"n{n}.server.log")
    wait_until(lambda: _answers(arr, n, "server", "backends"), 15, 0.2, f"node {n}'s server")
    _start_in_node(arr, n, [os.path.join(BUILD_ROOT, "scheduler", "dlbad"), "--config", conf, "--node", n,
                            "--scheduler-socket", arr.sock(n, "sched"), "--server-socket", arr.sock(n, "server"),
                            "--monitor-socket", arr.sock(n, "dlbad"),
                            "--admin-state", os.path.join(arr.rundir, f"n{n}.admin.state")], f"n{n}.dlbad.log")
