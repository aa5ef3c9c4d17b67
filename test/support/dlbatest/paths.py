"""Where the tests find the tree, its scripts and the built binaries.

Environment (set by the integration suites' meson.build files, or by scripts/bench-failover and
scripts/bench-proxy): DLBA_SOURCE_ROOT, DLBA_BUILD_ROOT, and for each binary that was built DLBA_SCHEDULER
(dlba-scheduler), DLBA_DLBAD (dlbad), DLBA_DLBACTL (dlbactl).
"""
import os

from dlbatest.tap import check

SOURCE_ROOT = os.environ.get("DLBA_SOURCE_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
BUILD_ROOT = os.environ.get("DLBA_BUILD_ROOT") or os.path.join(SOURCE_ROOT, "build")
TOPO = os.path.join(SOURCE_ROOT, "scripts", "topo")
ARRAY = os.path.join(SOURCE_ROOT, "scripts", "array")
CONF = os.path.join(SOURCE_ROOT, "conf", "dlba.conf")


def _binary(variable, name):
    path = os.environ.get(variable)
    check(path and os.access(path, os.X_OK), f"{name} is not built ({variable} unset or not executable)")
    return path


def scheduler_binary():
    return _binary("DLBA_SCHEDULER", "dlba-scheduler")


def dlbad_binary():
    return _binary("DLBA_DLBAD", "dlbad")
