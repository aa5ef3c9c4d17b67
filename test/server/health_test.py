"""Active health checks and load agents (issue 12) against real nginx back ends on loopback, with no client traffic
where the check alone must decide: web1's /health answers 500 while a file exists (nginx `if (-f ...)`), so the
check fails it after `fall` checks and brings it back after `rise`; a small TCP agent the test runs beside web2
answers one line per connection: `25%` cuts web2's share of 200 distinct URLs (url_hash, equal weights) to about
a fifth, `drain` keeps a cookie session on web2 while new clients go to web1, and a malformed line is counted in
agent_errors and changes nothing. A reload that changes web1's check is followed by the checker.
Usage: health_test.py DLBA_SERVER DLBACTL (TAP on stdout)."""
import http.client
import os
import socket
import sys
import threading
import time

from dlbatest.http_client import free_port, free_ports
from dlbatest.nginx import Nginx
from dlbatest.procs import TempDir
from dlbatest.server import ARRAY, DlbaServer
from dlbatest.tap import Suite, check, main, wait_until

SERVER_BIN, DLBACTL = sys.argv[1], sys.argv[2]
suite = Suite("server/health", setup_timeout=60)
env = {}

INTERVAL = 300  # ms: rise = fall = 2, so a verdict changes within about a second
ADDRESSES = ("127.0.0.61", "127.0.0.62")


class Agent:
    """A TCP load agent: answers every connection with the line it is told to, then closes."""

    def __init__(self, address, port):
        self.line = b"100%\n"
        self.connections = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            with c:
                self.connections += 1
                try:
                    c.sendall(self.line)
                except OSError:
                    pass

    def say(self, line):
        self.line = line.encode() if isinstance(line, str) else line
        start = self.connections
        # Heard once the checker has connected twice since (the second reads the new line for sure).
        wait_until(lambda: self.connections >= start + 2, 5, what="the agent to be asked")

    def stop(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


def config(port, web1_check=""):
    n1, n2 = env["nginx"]
    check1 = web1_check or f'check = {{ path = "/health"; interval_ms = {INTERVAL}; timeout_ms = 200; rise = 2; fall = 2; }};'
    return ARRAY + f"""backends = (
  {{ key = "web1"; address = "{n1.address}"; port = {n1.port}; {check1} }},
  {{ key = "web2"; address = "{n2.address}"; port = {n2.port};
    check = {{ path = "/health"; interval_ms = {INTERVAL}; timeout_ms = 200; rise = 2; fall = 2; expect_status = 200; }};
    agent = {{ port = {env["agent_port"]}; interval_ms = {INTERVAL}; timeout_ms = 200; }}; }}
);
services = (
  {{ name = "hash"; backends = ["web1", "web2"]; policy = "url_hash"; }},
  {{ name = "sticky"; backends = ["web1", "web2"]; policy = "cookie"; session_cookie = "JSESSIONID"; }}
);
server = {{
  workers = 2;
  listeners = (
    {{ address = "127.0.0.1"; port = {port}; tls = false; service = "hash"; }},
    {{ address = "127.0.0.1"; port = {port + 1}; tls = false; service = "sticky"; }}
  );
}};
"""


def setup():
    root = TempDir("dlba-health-")
    env["root"] = root
    r = root.path
    env["nginx"] = []
    for i, address in enumerate(ADDRESSES):
        sick = os.path.join(r, f"sick{i + 1}")
        health = (f'location = /health {{ if (-f {sick}) {{ return 500 "sick\\n"; }} return 200 "ok\\n"; }}')
        env["nginx"].append(Nginx(r, i + 1, address, free_port(address), extra_locations=health).start())
    env["sick1"] = os.path.join(r, "sick1")
    env["agent_port"] = free_port(ADDRESSES[1])
    env["agent"] = Agent(ADDRESSES[1], env["agent_port"])
    port = free_ports(2)
    env["port"] = port
    env["server"] = DlbaServer(SERVER_BIN, r, "s", config(port)).start(
        wait_for=[("127.0.0.1", port), ("127.0.0.1", port + 1)])


def teardown():
    if "server" in env:
        env["server"].stop()
    if "agent" in env:
        env["agent"].stop()
    for n in env.get("nginx", []):
        n.stop()
    if "root" in env:
        env["root"].remove()


suite.diag_hooks.append(lambda: env["server"].log_text() if "server" in env else "")


def rows():
    return env["server"].backends()


def row(key):
    return rows()[key]


def get(port, path, cookie=None):
    """(status, X-Backend, Set-Cookie headers) of one request on its own connection."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        r = c.getresponse()
        r.read()
        return r.status, r.getheader("X-Backend"), r.msg.get_all("Set-Cookie") or []
    finally:
        c.close()


def share_of_web2(tag):
    """How many of 200 distinct URLs on the url_hash service web2 answers."""
    n = 0
    for i in range(200):
        status, backend, _ = get(env["port"], f"/item/{tag}/{i}")
        check(status == 200, f"/item/{tag}/{i}: status {status}")
        n += backend == "2"
    return n


def access_log_lines(index):
    with open(env["nginx"][index - 1].access_log) as f:
        return f.read().splitlines()


@suite.case("both back ends start up by check, the agent's column shows its say, nothing failed yet")
def starts_up():
    wait_until(lambda: row("web1")["check"] == "up" and row("web2")["check"] == "up", 5, what="both checks up")
    wait_until(lambda: row("web2")["agent"] == "up,ready,100%", 5, what="the agent's first answer")
    r = rows()
    check(r["web1"]["agent"] == "-" and r["web1"]["agent_errors"] == 0, f"web1 has no agent: {r['web1']}")
    check(r["web1"]["state"] == "up" and r["web2"]["state"] == "up", f"states: {r}")
    # The first check already makes the verdict "up"; a second one follows within one interval (300 ms).
    web1_checks = lambda: [l for l in access_log_lines(1) if "/health" in l]
    wait_until(lambda: len(web1_checks()) >= 2, 3, what="a second check on web1")
    checks = web1_checks()
    # Checks run once per process, not per worker: about one per interval (jittered ±15 %) since start.
    print(f"# web1 checks so far: {len(checks)}")


@suite.case("web1's /health turns 500: failed by check with no client traffic, then up after rise", timeout=30)
def check_fails_and_recovers():
    hits_before = row("web1")["hits"]
    open(env["sick1"], "w").close()
    t0 = time.monotonic()
    try:
        wait_until(lambda: row("web1")["check"] == "failed:http_500", 5, what="web1 failed by check")
        failed_after = time.monotonic() - t0
        r = row("web1")
        check(r["state"] == "check_failed", f"state column: {r['state']}")
        check(r["hits"] == hits_before, "client traffic reached web1 while the test sent none")
        check(r["connect_failures"] == 0, "a check failure was counted as a connect failure")
        print(f"# failed after {failed_after:.2f} s (fall 2 x {INTERVAL} ms)")
        # Requests now avoid it on both services.
        for i in range(20):
            check(get(env["port"], f"/item/f/{i}")[1] == "2", "a request went to web1 while it failed by check")
        check(get(env["port"] + 1, "/")[1] == "2", "the sticky service sent a new client to web1")
    finally:
        os.unlink(env["sick1"])
    t1 = time.monotonic()
    wait_until(lambda: row("web1")["check"] == "up", 5, what="web1 back after rise")
    print(f"# up again after {time.monotonic() - t1:.2f} s (rise 2)")
    check(row("web1")["state"] == "up", "state not up again")
    check(any(get(env["port"], f"/item/f/{i}")[1] == "1" for i in range(20)), "web1 gets no request once up")
    log = env["server"].log_text()
    check("back end web1: check failed (failed:http_500)" in log and "back end web1: check up again" in log,
          "no log lines for the verdict changes")


@suite.case("the agent answers 25%: web2's share of 200 URLs falls to about a fifth", timeout=60)
def agent_percent():
    base = share_of_web2("a")
    env["agent"].say("25%\n")
    wait_until(lambda: row("web2")["agent"] == "up,ready,25%", 5, what="the agent's 25%")
    cut = share_of_web2("a")  # the same URLs
    print(f"# web2 answered {base}/200 at 100 %, {cut}/200 at 25 % (expected about 100 and 40)")
    check(70 <= base <= 130, f"equal weights do not share evenly: {base}/200")
    check(20 <= cut <= 60, f"at 25 % web2 answered {cut}/200, not about a fifth")
    check(row("web2")["weight"] == 1, "the configured weight column changed")
    env["agent"].say("100%\n")
    wait_until(lambda: row("web2")["agent"] == "up,ready,100%", 5, what="back to 100%")
    check(share_of_web2("a") == base, "back at 100 % the URLs do not map as before")


@suite.case("the agent says drain: a cookie session on web2 stays, new clients go to web1", timeout=60)
def agent_drain():
    sticky = env["port"] + 1
    cookie = None
    for _ in range(10):  # least_conn takes turns: a login lands on web2 within a few
        status, backend, set_cookies = get(sticky, "/login")
        if backend == "2":
            cookie = "; ".join(c.split(";")[0] for c in set_cookies)
            break
    check(cookie and "SpServer=web2" in cookie, f"no session on web2: {cookie}")
    env["agent"].say("drain\n")
    wait_until(lambda: row("web2")["state"] == "agent_drain", 5, what="web2 drained by its agent")
    check(row("web2")["agent"] == "up,drain,100%", f"agent column: {row('web2')['agent']}")
    for i in range(5):
        check(get(sticky, f"/page{i}", cookie=cookie)[1] == "2", "the session left web2 during the drain")
    news = [get(sticky, "/")[1] for _ in range(10)]
    check(news == ["1"] * 10, f"new clients during the drain: {news}")
    env["agent"].say("ready\n")
    wait_until(lambda: row("web2")["state"] == "up", 5, what="web2 ready again")
    check("2" in [get(sticky, "/")[1] for _ in range(6)], "web2 takes no new client after ready")


@suite.case("malformed agent answers are counted and change nothing", timeout=30)
def agent_malformed():
    env["agent"].say("50%\n")
    wait_until(lambda: row("web2")["agent"] == "up,ready,50%", 5, what="the agent's 50%")
    errors = row("web2")["agent_errors"]
    for line in ("hello there\n", "250%\n", "up down\n", b"\x00\xff\n"):
        env["agent"].say(line)
    wait_until(lambda: row("web2")["agent_errors"] >= errors + 4, 5, what="the errors counted")
    r = row("web2")
    check(r["agent"] == "up,ready,50%" and r["state"] == "up", f"a malformed answer changed something: {r}")
    check(env["server"].proc.poll() is None, "the server exited")
    env["agent"].say("100%\n")
    wait_until(lambda: row("web2")["agent"] == "up,ready,100%", 5, what="back to 100%")


@suite.case("a reload that changes web1's check (expect_status 204) fails it; reloading back brings it up", timeout=30)
def reload_follows():
    s = env["server"]
    strict = (f'check = {{ path = "/health"; interval_ms = {INTERVAL}; timeout_ms = 200; rise = 2; fall = 2; '
              f'expect_status = 204; }};')
    with open(s.config, "w") as f:
        f.write(config(env["port"], strict))
    reply = s.monitor("reload")
    check(reply["ok"], f"reload refused: {reply}")
    wait_until(lambda: row("web1")["check"] == "failed:http_200", 5, what="web1 failed by the new check")
    check(row("web2")["check"] == "up" and row("web2")["agent"] == "up,ready,100%", "web2's state was lost")
    with open(s.config, "w") as f:
        f.write(config(env["port"]))
    check(s.monitor("reload")["ok"], "second reload refused")
    wait_until(lambda: row("web1")["check"] == "up", 5, what="web1 up with the old check again")


if __name__ == "__main__":
    main(suite, setup, teardown)
