#!/usr/bin/python3
"""The Debian package (issue 17): built, checked by lintian, installed on this machine, used, and purged.

scripts/package builds dlba_*.deb (dpkg-buildpackage on a copy of the tree in BUILD/package/src, the unit suite in
dh_auto_test, lintian: no errors); `apt-get install ./dlba_*.deb` installs it; the installed manual pages render
with man; systemd-analyze verify accepts the installed units; the installed binaries (DLBA_BIN=/usr/bin) run the
demo's array (scripts/array) and it serves through the VIP; `apt-get purge dlba` leaves none of the package's
files behind. The package is purged and the array taken down even when a step fails.

It refuses to run when a package named dlba is installed already (it would purge someone's install).
DLBA_PACKAGE_PREBUILT=1 reruns everything but the build on the package the last run left in BUILD/package.
"""
import os
import re
import subprocess
import time

from dlbatest import array as array_mod
from dlbatest.paths import BUILD_ROOT, SOURCE_ROOT
from dlbatest.procs import on_exit, run
from dlbatest.tap import Suite, TestFailure, check, main
from dlbatest.topo import VIP, curl

suite = Suite("package", setup_timeout=2400)
OUT = os.path.join(BUILD_ROOT, "package")
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
state = {"installed": False, "times": {}}


def installed():
    cp = run(["dpkg-query", "-W", "-f=${Status}", "dlba"], check_rc=False)
    return cp.returncode == 0 and "install ok installed" in cp.stdout


def purge():
    if installed() or run(["dpkg-query", "-W", "dlba"], check_rc=False).returncode == 0:
        subprocess.run(["apt-get", "purge", "-y", "-qq", "dlba"], env=APT_ENV, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=300)


def timed(name, fn):
    t0 = time.monotonic()
    try:
        return fn()
    finally:
        state["times"][name] = time.monotonic() - t0
        suite.diag(f"{name}: {state['times'][name]:.1f} s")


def setup():
    check(os.geteuid() == 0, "the package test needs root (apt-get, namespaces, DPDK)")
    check(not installed(), "a package named dlba is installed already: this test installs and purges it, so it "
                           "leaves that install alone (apt-get purge dlba first if it is a leftover)")
    for tool in ("dpkg-buildpackage", "lintian", "fakeroot", "dh", "man"):
        check(run(["which", tool], check_rc=False).returncode == 0, f"{tool} is not installed")
    if os.environ.get("DLBA_PACKAGE_PREBUILT") == "1":
        # A rerun on the package the last run built (BUILD/package): everything but the build itself.
        suite.diag(f"DLBA_PACKAGE_PREBUILT=1: using the package already in {OUT}")
    else:
        # nocheck: the unit suite is not built nor run inside the package build here, because the same
        # scripts/test run has just built and run it on this tree (it halves the build); `scripts/package` by hand
        # runs it through dh_auto_test. noopt (-O0): what is checked here is the packaging (files, units, man
        # pages, maintainer scripts, the installed array serving), not the optimiser, and the -O2 compile was the
        # longest step of the whole test run. A release package is built by `scripts/package` without it.
        build_env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck noopt")
        cp = timed("package build (scripts/package, dpkg-buildpackage with nocheck noopt + lintian)",
                   lambda: subprocess.run([os.path.join(SOURCE_ROOT, "scripts", "package"), OUT],
                                          capture_output=True, text=True, timeout=2200, stdin=subprocess.DEVNULL,
                                          env=build_env))
        if cp.returncode != 0:
            raise TestFailure(f"scripts/package failed ({cp.returncode}):\n{cp.stderr[-4000:]}")
    debs = [f for f in os.listdir(OUT) if re.fullmatch(r"dlba_[^_]+_[a-z0-9]+\.deb", f)]
    check(len(debs) == 1, f"want one dlba_*.deb in {OUT}: {debs}")
    state["deb"] = os.path.join(OUT, debs[0])
    on_exit(purge)  # from here on, whatever happens, the package goes again


@suite.case("lintian reports no error (warnings listed)")
def lintian():
    with open(os.path.join(OUT, "lintian.txt")) as f:
        report = f.read()
    errors = [line for line in report.splitlines() if line.startswith("E:")]
    for line in report.splitlines():
        suite.diag(f"lintian: {line}")
    check(not errors, f"lintian errors: {errors}")


@suite.case("apt-get install ./dlba_*.deb installs the binaries, units, conffiles, state directory and manuals",
            timeout=300)
def install():
    cp = timed("apt-get install", lambda: subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", state["deb"]], env=APT_ENV,
        capture_output=True, text=True, timeout=280, stdin=subprocess.DEVNULL))
    state["installed"] = installed()
    check(cp.returncode == 0 and state["installed"], f"apt-get install failed ({cp.returncode}):\n{cp.stdout}{cp.stderr}")
    files = run(["dpkg", "-L", "dlba"]).stdout.split()
    state["files"] = files
    for path in ("/usr/bin/dlba-scheduler", "/usr/bin/dlba-server", "/usr/bin/dlbad", "/usr/bin/dlbactl",
                 "/lib/systemd/system/dlba-scheduler.service", "/lib/systemd/system/dlba-server.service",
                 "/lib/systemd/system/dlbad.service", "/etc/dlba/dlba.conf", "/etc/default/dlba", "/var/lib/dlba",
                 "/usr/share/man/man8/dlbactl.8.gz", "/usr/share/man/man8/dlbad.8.gz",
                 "/usr/share/man/man8/dlba-scheduler.8.gz", "/usr/share/man/man8/dlba-server.8.gz",
                 "/usr/share/man/man5/dlba.conf.5.gz"):
        check(path in files and os.path.exists(path), f"{path} is not installed by the package")
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "dlba"]).stdout
    for path in ("/etc/dlba/dlba.conf", "/etc/default/dlba"):
        check(path in conffiles, f"{path} is not a conffile: {conffiles!r}")
    text = open("/etc/dlba/dlba.conf").read()
    check(re.search(r"^\s*peer_keys\s*=", text, re.M) is None, "the installed dlba.conf still carries the test key")
    # The installed file loads, and without keys the daemons refuse to start with a reason.
    run(["/usr/bin/dlba-scheduler", "--", "--config", "/etc/dlba/dlba.conf", "--check-config"])
    cp = run(["/usr/bin/dlbad", "--config", "/etc/dlba/dlba.conf", "--node", "1"], check_rc=False, timeout=10)
    check(cp.returncode != 0 and "peer_keys" in cp.stderr, f"dlbad without keys: {cp.returncode} {cp.stderr!r}")
    key = run(["/usr/bin/dlbactl", "keygen"]).stdout.strip()
    check(re.fullmatch(r"[0-9a-f]{64}", key), f"dlbactl keygen: {key!r}")


@suite.case("man dlbactl (and every other page) renders")
def manuals():
    env = dict(os.environ, MANPAGER="cat", MANWIDTH="100", LC_ALL="C.UTF-8")
    for args, want in ((["dlbactl"], "dlbactl - operate a DLBA array"),
                       (["8", "dlba-scheduler"], "dlba-scheduler - the DPDK data plane"),
                       (["8", "dlba-server"], "dlba-server - the DLBA node's HTTP/HTTPS proxy"),
                       (["8", "dlbad"], "dlbad - the DLBA node daemon"),
                       (["5", "dlba.conf"], "dlba.conf - configuration file")):
        cp = subprocess.run(["man", *args], env=env, capture_output=True, text=True, timeout=30)
        text = re.sub(r".\x08", "", cp.stdout)
        check(cp.returncode == 0 and want in text, f"man {' '.join(args)} ({cp.returncode}): {cp.stderr}{text[:300]}")
    cp = subprocess.run(["man", "5", "dlba.conf"], env=env, capture_output=True, text=True, timeout=30)
    check("server.timeouts.idle_ms" in re.sub(r".\x08", "", cp.stdout), "dlba.conf(5) lacks its keys")


@suite.case("systemd-analyze verify accepts the installed units")
def units():
    cp = run(["systemd-analyze", "verify", "/lib/systemd/system/dlba-scheduler.service",
              "/lib/systemd/system/dlba-server.service", "/lib/systemd/system/dlbad.service"], check_rc=False)
    out = (cp.stdout + cp.stderr).strip()
    ours = [line for line in out.splitlines() if "dlba" in line]
    suite.diag(f"systemd-analyze verify: rc {cp.returncode}; {out or 'no output'}")
    check(cp.returncode == 0 and not ours, f"systemd-analyze verify ({cp.returncode}):\n{out}")
    for unit in ("dlba-scheduler", "dlba-server", "dlbad"):
        text = open(f"/lib/systemd/system/{unit}.service").read()
        check("Type=notify" in text and "NotifyAccess=main" in text and "WatchdogSec=" in text,
              f"{unit}.service is not Type=notify with a watchdog")
        check(f"ExecStart=/usr/bin/{unit} " in text, f"{unit}.service does not start /usr/bin/{unit}")


@suite.case("the installed binaries (DLBA_BIN=/usr/bin) run the demo's array, and it serves through the VIP",
            timeout=300)
def array():
    array_mod.ENV["DLBA_BIN"] = "/usr/bin"
    array_mod.ENV["DLBA_DLBACTL"] = "/usr/bin/dlbactl"
    arr = array_mod.Array(prefix=f"dpk{os.getpid() % 100000}")
    t0 = time.monotonic()
    with arr:
        rundir = arr.rundir
        # Every daemon of every node is the installed binary.
        cp = run(["pgrep", "-a", "-f", f"{rundir}/n"], check_rc=False)
        binaries = {line.split()[1] for line in cp.stdout.splitlines() if len(line.split()) > 1}
        suite.diag(f"array processes run: {sorted(binaries)}")
        for b in ("/usr/bin/dlba-scheduler", "/usr/bin/dlba-server", "/usr/bin/dlbad"):
            check(b in binaries, f"{b} does not run in the array (running: {sorted(binaries)})")
        codes = []
        for _ in range(6):
            rc, out = curl(arr, f"http://{VIP}/", extra=["-o", "/dev/null", "-w", "%{http_code}"])
            codes.append(out.strip() if rc == 0 else f"curl {rc}")
        check(all(c == "200" for c in codes), f"answers through the VIP: {codes}\n{arr.logs_tail()}")
        n = arr.active_node()
        suite.diag(f"6 requests through the VIP answered 200; active scheduler: node {n}")
    state["times"]["array up, requests, down"] = time.monotonic() - t0
    suite.diag(f"array up, requests, down: {state['times']['array up, requests, down']:.1f} s")


@suite.case("apt-get purge dlba removes every file of the package", timeout=300)
def purge_case():
    check(state.get("files"), "not installed by the install case")
    cp = timed("apt-get purge", lambda: subprocess.run(["apt-get", "purge", "-y", "-qq", "dlba"], env=APT_ENV,
                                                       capture_output=True, text=True, timeout=280,
                                                       stdin=subprocess.DEVNULL))
    check(cp.returncode == 0, f"apt-get purge failed ({cp.returncode}):\n{cp.stdout}{cp.stderr}")
    check(run(["dpkg-query", "-W", "dlba"], check_rc=False).returncode != 0 or not installed(),
          "dpkg still knows dlba")
    shared = {"/.", "/etc", "/etc/default", "/usr", "/usr/bin", "/usr/share", "/usr/share/doc", "/usr/share/man",
              "/usr/share/man/man5", "/usr/share/man/man8", "/lib", "/lib/systemd", "/lib/systemd/system", "/var",
              "/var/lib"}
    left = [p for p in state["files"] if p not in shared and os.path.lexists(p)]
    check(not left, f"left after purge: {left}")
    for p in ("/etc/dlba", "/var/lib/dlba", "/usr/share/doc/dlba", "/etc/systemd/system/multi-user.target.wants/dlbad.service"):
        check(not os.path.lexists(p), f"{p} is left after purge")


def teardown():
    purge()
    total = sum(state["times"].values())
    suite.diag("times: " + ", ".join(f"{k} {v:.1f} s" for k, v in state["times"].items()) + f"; total {total:.1f} s")


if __name__ == "__main__":
    main(suite, setup, teardown)
