"""The operator's admin state lasts (seed 002's in-service / out-of-service, issue 12): dlba-server and dlbad on
loopback with real nginx back ends. dlbactl talks to dlbad's socket; dlbad keeps the state in its file and replays
it to a restarted server; a restarted dlbad replays its file; a corrupt file is refused whole with a log line.
Usage: admin_state_test.py DLBA_SERVER DLBACTL DLBAD (TAP on stdout)."""
import os
import re
import subprocess
import sys
import time

from dlbatest import ctl
from dlbatest.http_client import free_port, free_ports
from dlbatest.nginx import Nginx
from dlbatest.procs import Proc, TempDir, on_exit, read_log, run
from dlbatest.server import ARRAY, DlbaServer, config_text
from dlbatest.tap import Suite, check, main, wait_until

SERVER_BIN, DLBACTL, DLBAD_BIN = sys.argv[1], sys.argv[2], sys.argv[3]
suite = Suite("server/admin_state", setup_timeout=60)
env = {}
NODE_IP = "127.0.0.61"  # node 1's eth0 for dlbad: its config port, heartbeats, probes


def setup():
    # dlbad needs an interface that holds its node's eth0 address: this one, on lo, for the test's life only.
    run(["ip", "addr", "add", f"{NODE_IP}/32", "dev", "lo"], check_rc=False)
    env["address"] = True
    on_exit(drop_address)
    root = TempDir("dlba-admin-state-test-")
    env["root"] = root
    r = root.path
    nginxes = []
    for i in (1, 2, 3):
        address = f"127.0.0.{30 + i}"
        nginxes.append(Nginx(r, i, address, free_port(address)))
    env["nginx"] = nginxes
    for n in nginxes:
        n.start()
    web = free_port()
    env["web"] = web
    hb = free_ports(4, NODE_IP)  # heartbeat (UDP), status, config and sync ports: consecutive
    status, cfg, sync = hb + 1, hb + 2, hb + 3
    env["state_file"] = os.path.join(r, "state", "admin-n%n.state")
    backends = [(str(n.index), n.address, n.port) for n in nginxes]
    services = ['name = "web"; backends = ["1", "2", "3"]; policy = "cookie"; session_cookie = "JSESSIONID";']
    text = config_text(backends, services, [("127.0.0.1", web, False, "web")], "  workers = 2;")
    text = text.replace('eth0_ip = "10.77.0.11"', f'eth0_ip = "{NODE_IP}"').replace(
        "failover = { peer_keys",
        f'failover = {{ heartbeat_port = {hb}; status_port = {status}; config_port = {cfg}; sync_port = {sync}; '
        f'admin_state_file = "{env["state_file"]}"; peer_keys')
    check(ARRAY.split("\n")[0] in text and NODE_IP in text, "the test configuration")
    env["server"] = DlbaServer(SERVER_BIN, r, "dlba", text).start(wait_for=[("127.0.0.1", web)])
    env["dlbad_sock"] = os.path.join(r, "dlbad.sock")
    env["dlbad_log"] = os.path.join(r, "dlbad.log")
    start_dlbad()


def start_dlbad():
    s = env["server"]
    cmd = [DLBAD_BIN, "--config", s.config, "--node", 1, "--scheduler-socket", os.path.join(env["root"].path, "none"),
           "--server-socket", s.socket, "--monitor-socket", env["dlbad_sock"]]
    env["dlbad"] = Proc(cmd, env["dlbad_log"], name="dlbad")
    wait_until(lambda: ctl.ask(env["dlbad_sock"], "failover") is not None or not env["dlbad"].alive(), 10, 0.1,
               "dlbad's monitor socket")
    check(env["dlbad"].alive(), f"dlbad exited: {env['dlbad'].tail()}")


def drop_address():
    if env.pop("address", None):
        run(["ip", "addr", "del", f"{NODE_IP}/32", "dev", "lo"], check_rc=False)


def teardown():
    if "dlbad" in env:
        env["dlbad"].stop()
    if "server" in env:
        env["server"].stop()
    for n in env.get("nginx", []):
        n.stop()
    if "root" in env:
        env["root"].remove()
    drop_address()


def dlbactl(*args):
    """dlbactl --socket dlbad.sock ARGS: must succeed."""
    cp = ctl.ctl(env["dlbad_sock"], *args, check_rc=False, exe=DLBACTL)
    check(cp.returncode == 0, f"dlbactl {' '.join(map(str, args))}: exit {cp.returncode}: {cp.stdout} {cp.stderr}")
    return cp.stdout


def backends():
    return env["server"].backends()


def curl(path, *args):
    cp = run(["curl", "-sS", "-i", "--max-time", "5", *args, f"http://127.0.0.1:{env['web']}{path}"], check_rc=False)
    return cp.stdout


def backend_of(response):
    m = re.search(r"^X-Backend: (\S+)", response, re.M)
    return m.group(1) if m else None


def new_clients(n=12):
    """The back ends that n requests without a cookie reach."""
    return [backend_of(curl("/x")) for _ in range(n)]


def restart_server(kill=True):
    s = env["server"]
    if kill:
        s.proc.kill_and_wait()
    else:
        s.stop()
    if os.path.exists(s.socket):
        os.unlink(s.socket)
    s.start(wait_for=[("127.0.0.1", env["web"])])


def state_path():
    return env["state_file"].replace("%n", "1")


def admin_of():
    return {k: (v["admin"], v["weight"]) for k, v in backends().items()}


# ---- cases -------------------------------------------------------------------------------------------------------

@suite.case("out-of-service maintenance takes nothing, not even a cookie session; the table says why")
def maintenance():
    jar = os.path.join(env["root"].path, "jar-m.txt")
    for _ in range(15):  # a session on back end 1
        login = curl("/login", "-c", jar, "-b", jar)
        if backend_of(login) == "1":
            break
        os.unlink(jar)
    check(backend_of(login) == "1", f"no session on back end 1: {login}")
    out = dlbactl("backend", "1", "out-of-service", "maintenance")
    check("maintenance" in out, f"dlbactl said: {out}")
    row = backends()["1"]
    check(row["admin"] == "maintenance" and row["state"] == "disabled", f"back end 1: {row}")
    seen = [backend_of(curl("/page", "-b", jar)) for _ in range(5)] + new_clients()
    check("1" not in seen and None not in seen, f"requests reached {seen}")
    dlbactl("backend", "1", "in-service")
    check(backends()["1"]["admin"] == "in-service", f"back end 1: {backends()['1']}")


@suite.case("sticky keeps an existing cookie session while new clients go elsewhere")
def sticky():
    jar = os.path.join(env["root"].path, "jar-s.txt")
    login = curl("/login", "-c", jar, "-b", jar)
    home = backend_of(login)
    check(home in ("1", "2", "3"), f"login: {login}")
    dlbactl("backend", home, "out-of-service", "sticky")
    check(backends()[home]["admin"] == "sticky", f"back end {home}: {backends()[home]}")
    kept = [backend_of(curl(f"/page{i}", "-c", jar, "-b", jar)) for i in range(8)]
    check(kept == [home] * 8, f"the session on {home} went to {kept}")
    fresh = new_clients()
    check(home not in fresh and None not in fresh, f"new clients reached {fresh} (sticky {home})")
    dlbactl("backend", home, "in-service")


@suite.case("out-of-service and a run-time weight survive kill -9 and restart of dlba-server")
def server_restart():
    dlbactl("backend", "2", "out-of-service", "oos")
    dlbactl("backend", "3", "weight", "5")
    check(admin_of()["2"] == ("oos", 1) and admin_of()["3"] == ("in-service", 5), f"before: {admin_of()}")
    with open(state_path()) as f:
        text = f.read()
    check("backend 2 out-of-service oos\n" in text and "backend 3 weight 5\n" in text, f"state file: {text!r}")
    restart_server(kill=True)
    wait_until(lambda: admin_of()["2"] == ("oos", 1) and admin_of()["3"] == ("in-service", 5), 5, 0.1,
               f"the restarted server to get its state back (dlbad: {log_tail()})")
    fresh = new_clients()
    check("2" not in fresh, f"new clients reached {fresh} with back end 2 out of service")
    # Every line of the file is replayed: 2 oos, 3 weight 5, and the in-service lines the cases before left (the
    # sticky case's back end is whichever its login reached). dlbad logs after the server has applied them.
    n = len([ln for ln in text.splitlines() if ln.startswith("backend ")])
    wait_until(lambda: re.search(rf"replayed {n} of {n} settings to the server", read_log(env["dlbad_log"]) or ""),
               5, 0.1, f"dlbad to log the replay of {n} settings (dlbad: {log_tail()})")


@suite.case("they survive kill -9 of dlbad and of the server together: the new dlbad replays its file")
def dlbad_restart():
    env["dlbad"].kill_and_wait()
    restart_server(kill=True)
    check(admin_of()["2"] == ("in-service", 1), f"a fresh server without dlbad has the file's values: {admin_of()}")
    start_dlbad()
    wait_until(lambda: admin_of()["2"] == ("oos", 1) and admin_of()["3"] == ("in-service", 5), 5, 0.1,
               f"the new dlbad to replay (dlbad: {log_tail()})")


@suite.case("a corrupt state file is refused with a log line and the configuration's values stand")
def corrupt_file():
    env["dlbad"].kill_and_wait()
    with open(state_path(), "w") as f:
        f.write("dlba-admin-state 1\nbackend 1 out-of-service failed\nbackend 2 weight x\nend 2\n")
    restart_server(kill=True)
    start_dlbad()
    wait_until(lambda: "refused" in (read_log(env["dlbad_log"]) or ""), 5, 0.1, "dlbad's refusal")
    log = read_log(env["dlbad_log"])
    check(re.search(r"admin-n1\.state refused \(line 3: not an admin setting: 'backend 2 weight x'\); the "
                    r"configuration's values stand", log), f"dlbad's log: {log_tail()}")
    time.sleep(1)  # four watch rounds: nothing replayed
    check(admin_of() == {"1": ("in-service", 1), "2": ("in-service", 1), "3": ("in-service", 1)},
          f"half applied: {admin_of()}")
    check(os.path.exists(state_path() + ".refused"), "the refused file was not kept aside")
    # The next setting starts a fresh file.
    dlbactl("backend", "1", "out-of-service", "failed")
    row = backends()["1"]
    check(row["admin"] == "failed" and row["state"] == "disabled", f"failed by operator: {row}")
    with open(state_path()) as f:
        check(f.read() == "dlba-admin-state 1\nbackend 1 out-of-service failed\nend 1\n", "the fresh file")
    dlbactl("backend", "1", "enable")  # the older spelling still works
    check(backends()["1"]["admin"] == "in-service", f"back end 1 after enable: {backends()['1']}")


def log_tail():
    return (read_log(env["dlbad_log"]) or "")[-1500:]


if __name__ == "__main__":
    main(suite, setup, teardown)
