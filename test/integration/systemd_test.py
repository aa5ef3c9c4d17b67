#!/usr/bin/python3
"""The three units started by a real systemd (issue 17): systemd 252 as PID 1 of a systemd-nspawn container.

The container boots this machine's /usr (--volatile=yes: / and /etc are a fresh tmpfs, so none of the host's
services start) with a private network, the built binaries bound in read-only, the units of conf/systemd (as
meson configured them, their ExecStart pointed at the build tree) in /etc/systemd/system, /etc/default/dlba naming
node 1 and a net_null DPDK port, and /etc/dlba/dlba.conf (writable, from this test's directory). A probe unit runs
a script inside, which writes what systemctl and journalctl say to /out and powers the container off; the cases
read /out. `systemctl start` of a Type=notify unit returns only once the daemon sent READY=1, so its success is
the first check; then the status text, the watchdog timestamps moving, reloads (one of them with a broken file,
refused: the daemon keeps running), the journal's priorities, and a clean stop.
"""
import json
import os
import re
import shutil
import subprocess

from dlbatest.paths import BUILD_ROOT, dlbad_binary, scheduler_binary
from dlbatest.procs import TempDir
from dlbatest.server import config_text
from dlbatest.tap import Suite, TestFailure, check, main

suite = Suite("systemd", setup_timeout=240)
UNITS = ("dlba-scheduler", "dlba-server", "dlbad")
state = {}

PROBE = r"""#!/bin/bash
# Runs inside the container as a oneshot unit; everything it finds goes to /out.
exec >/out/probe.log 2>&1
set -x
ip link set lo up
ip link add eth0 type veth peer name eth0p && ip addr add 10.77.0.11/24 dev eth0 && ip link set eth0p up &&
    ip link set eth0 up
show() { systemctl show -p ActiveState,SubState,Result,StatusText,NRestarts,Type,NotifyAccess,WatchdogUSec,MainPID "$@"; }
timeout 60 systemctl start dlba-scheduler.service dlba-server.service dlbad.service; echo "$?" >/out/start.rc
for u in dlba-scheduler dlba-server dlbad; do show "$u" >"/out/$u.started"; done
for u in dlba-scheduler dlba-server dlbad; do systemctl show -p WatchdogTimestampMonotonic "$u" >"/out/$u.wd1"; done
sleep 12   # longer than every unit's WatchdogSec: without pings systemd would have killed them
for u in dlba-scheduler dlba-server dlbad; do systemctl show -p WatchdogTimestampMonotonic "$u" >"/out/$u.wd2"; done
for u in dlba-scheduler dlba-server dlbad; do show "$u" >"/out/$u.running"; done
for u in dlba-scheduler dlba-server dlbad; do timeout 30 systemctl reload "$u"; echo "$?" >"/out/$u.reload.rc"; done
sleep 3
for u in dlba-scheduler dlba-server dlbad; do show "$u" >"/out/$u.reloaded"; done
# A broken file: the reload is refused, logged as a warning, and the server keeps serving on the running one.
cp /etc/dlba/dlba.conf /etc/dlba/good.conf
sed -i 's/^server = {/server = { bogus_key = 1;/' /etc/dlba/dlba.conf
timeout 30 systemctl reload dlba-server; echo "$?" >/out/dlba-server.badreload.rc
sleep 1
cp /etc/dlba/good.conf /etc/dlba/dlba.conf
show dlba-server >/out/dlba-server.afterbad
timeout 60 systemctl stop dlbad.service dlba-server.service dlba-scheduler.service; echo "$?" >/out/stop.rc
for u in dlba-scheduler dlba-server dlbad; do show "$u" >"/out/$u.stopped"; done
for u in dlba-scheduler dlba-server dlbad; do journalctl -u "$u" -o json --no-pager >"/out/$u.journal"; done
echo done >/out/done
systemctl poweroff --no-block
"""

PROBE_UNIT = """[Unit]
Description=DLBA systemd test probe
# The units start after network-online.target: wait for it here, so that `systemctl start` measures the daemons.
Wants=network-online.target
After=basic.target network-online.target
[Service]
Type=oneshot
ExecStart=/bin/bash /probe.sh
"""


def setup():
    check(os.geteuid() == 0, "the systemd test needs root (systemd-nspawn)")
    check(shutil.which("systemd-nspawn"), "systemd-nspawn is not installed (Debian package systemd-container)")
    root = TempDir("dlba-systemd-").path
    # What the probe found stays in the build tree after the run, for a look when a case fails.
    out = os.path.join(BUILD_ROOT, "systemd-test-out")
    shutil.rmtree(out, ignore_errors=True)
    etc_dlba = os.path.join(root, "etc-dlba")
    units = os.path.join(root, "units")
    for d in (out, etc_dlba, units):
        os.makedirs(d)
    server = os.path.join(BUILD_ROOT, "dlba_server", "dlba-server")
    binaries = {"dlba-scheduler": scheduler_binary(), "dlba-server": server, "dlbad": dlbad_binary()}
    for unit in UNITS:
        text = open(os.path.join(BUILD_ROOT, "conf", f"{unit}.service")).read()
        text = re.sub(r"/\S*/bin/" + re.escape(unit) + r"\b", binaries[unit], text)
        text = re.sub(r"EnvironmentFile=\S+", "EnvironmentFile=/etc/default/dlba", text)
        with open(os.path.join(units, f"{unit}.service"), "w") as f:
            f.write(text)
    with open(os.path.join(units, "dlba-probe.service"), "w") as f:
        f.write(PROBE_UNIT)
    with open(os.path.join(root, "probe.sh"), "w") as f:
        f.write(PROBE)
    with open(os.path.join(root, "dlba.default"), "w") as f:
        f.write('DLBA_NODE=1\nDLBA_CONFIG=/etc/dlba/dlba.conf\n'
                'DLBA_EAL_ARGS="--no-huge --no-pci --no-shconf -m 512 -l 0 --vdev=net_null0 --file-prefix dlbasd '
                '--log-level lib.eal:warning"\n')
    conf = config_text([("1", "127.0.0.1", 9)], ['name = "web"; backends = ["1"];'],
                       [("127.0.0.1", 18080, False, "web")])
    # The admin state under /run/dlba (the container's /var/lib is an empty tmpfs).
    conf = conf.replace("failover = { peer_keys", 'failover = { admin_state_file = "/run/dlba/admin.state"; peer_keys')
    with open(os.path.join(etc_dlba, "dlba.conf"), "w") as f:
        f.write(conf)
    # /sys/module: with a private network nspawn shows only part of /sys, and DPDK's EAL refuses to start when it
    # cannot look for the vfio module there.
    binds = ["--bind-ro=/sys/module", f"--bind-ro={BUILD_ROOT}", f"--bind={out}:/out", f"--bind={etc_dlba}:/etc/dlba",
             f"--bind-ro={root}/dlba.default:/etc/default/dlba", f"--bind-ro={root}/probe.sh:/probe.sh"]
    binds += [f"--bind-ro={units}/{u}:/etc/systemd/system/{u}" for u in os.listdir(units)]
    # Masked: network-online.target (which the units want) would wait for systemd-networkd-wait-online, and with a
    # private network networkd manages no link, so it waits its full two minutes before giving up. Nothing in
    # the container needs a network manager: the probe sets its veth up itself.
    binds.append("--bind-ro=/dev/null:/etc/systemd/system/systemd-networkd-wait-online.service")
    cmd = ["systemd-nspawn", "-D", "/", "--volatile=yes", "--private-network", "--register=no", "--keep-unit",
           f"--machine=dlbasd{os.getpid()}", *binds, "-b", "systemd.unit=multi-user.target",
           "systemd.wants=dlba-probe.service", "systemd.firstboot=off"]
    console = os.path.join(root, "console.log")
    with open(console, "wb") as log:
        try:
            rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                timeout=240).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    state.update(out=out, console=console)
    if not os.path.exists(os.path.join(out, "done")):
        probe = read(os.path.join(out, "probe.log")) or ""
        raise TestFailure(f"the container did not finish the probe (nspawn: {rc}):\n"
                          f"{(read(console) or '')[-3000:]}\n--- probe.log\n{probe[-3000:]}")
    suite.diag(f"systemd-nspawn booted systemd, ran the probe and powered off (rc {rc})")


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return None


def props(unit, when):
    text = read(os.path.join(state["out"], f"{unit}.{when}")) or ""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def out_text(name):
    return (read(os.path.join(state["out"], name)) or "").strip()


def probe_tail():
    return (read(os.path.join(state["out"], "probe.log")) or "")[-2500:]


@suite.case("systemctl start returns for all three Type=notify units: each sent READY=1")
def started():
    check(out_text("start.rc") == "0", f"systemctl start: rc {out_text('start.rc')}\n{probe_tail()}")
    for u in UNITS:
        p = props(u, "started")
        suite.diag(f"{u}: {p.get('ActiveState')}/{p.get('SubState')} Type={p.get('Type')} "
                   f"NotifyAccess={p.get('NotifyAccess')} WatchdogUSec={p.get('WatchdogUSec')} "
                   f"StatusText={p.get('StatusText')!r}")
        check(p.get("Type") == "notify" and p.get("NotifyAccess") == "main", f"{u}: {p}")
        check(p.get("ActiveState") == "active" and p.get("SubState") == "running", f"{u} is not running: {p}")
        check(p.get("StatusText", "").startswith("node 1:"), f"{u}: no STATUS= from the daemon: {p}")


@suite.case("the watchdog is fed: timestamps move, no unit was killed and restarted over 12 s")
def watchdog():
    for u in UNITS:
        t1 = int(props(u, "wd1").get("WatchdogTimestampMonotonic", "0"))
        t2 = int(props(u, "wd2").get("WatchdogTimestampMonotonic", "0"))
        p = props(u, "running")
        suite.diag(f"{u}: watchdog timestamp +{(t2 - t1) / 1e6:.1f} s over the 12 s wait, NRestarts={p.get('NRestarts')}")
        check(t2 > t1 > 0, f"{u}: the watchdog timestamp did not move ({t1} -> {t2})")
        check(p.get("ActiveState") == "active" and p.get("NRestarts") == "0", f"{u} after 12 s: {p}")


@suite.case("systemctl reload: each unit reloads (dlbad re-executes itself) and is running again with a status")
def reloads():
    for u in UNITS:
        check(out_text(f"{u}.reload.rc") == "0", f"systemctl reload {u}: rc {out_text(f'{u}.reload.rc')}")
        before, after = props(u, "running"), props(u, "reloaded")
        suite.diag(f"{u} after reload: {after.get('ActiveState')}/{after.get('SubState')} "
                   f"StatusText={after.get('StatusText')!r}")
        check(after.get("ActiveState") == "active" and after.get("SubState") == "running", f"{u}: {after}")
        check(after.get("MainPID") == before.get("MainPID"), f"{u}: the main pid changed over the reload")
    journal = out_text("dlbad.journal")
    check("restarting on the new configuration" in journal, "dlbad did not re-execute itself on reload")


@suite.case("a broken file on reload is refused and logged at warning priority; the server keeps running")
def refused():
    p = props("dlba-server", "afterbad")
    check(p.get("ActiveState") == "active" and p.get("SubState") == "running", f"dlba-server after a bad file: {p}")
    entries = [json.loads(line) for line in out_text("dlba-server.journal").splitlines() if line.startswith("{")]
    mine = [e for e in entries if e.get("_PID") or e.get("SYSLOG_IDENTIFIER", "").startswith("dlba")]
    warnings = [e for e in mine if e.get("PRIORITY") == "4" and "SIGHUP" in str(e.get("MESSAGE"))]
    notices = [e for e in mine if e.get("PRIORITY") == "5" and "SIGHUP" in str(e.get("MESSAGE"))]
    infos = [e for e in mine if e.get("PRIORITY") == "6" and "listening on" in str(e.get("MESSAGE"))]
    for e in (warnings + notices + infos)[:4]:
        suite.diag(f"journal: PRIORITY={e.get('PRIORITY')} MESSAGE={str(e.get('MESSAGE'))[:110]!r}")
    check(warnings, f"no warning-priority line for the refused reload in the journal: "
                    f"{[(e.get('PRIORITY'), e.get('MESSAGE')) for e in mine][-8:]}")
    check(notices and infos, "the applied reload (notice) or the start line (info) is missing from the journal")
    check(not any(str(e.get("MESSAGE", "")).startswith("<") for e in mine), "a priority prefix reached the message")


@suite.case("systemctl stop: every unit stops cleanly (STOPPING, exit 0)")
def stopped():
    check(out_text("stop.rc") == "0", f"systemctl stop: rc {out_text('stop.rc')}")
    for u in UNITS:
        p = props(u, "stopped")
        check(p.get("ActiveState") == "inactive" and p.get("Result") == "success", f"{u} after stop: {p}")


if __name__ == "__main__":
    main(suite, setup)
