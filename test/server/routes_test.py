"""dlba-server URI-dedicated back-end groups (listener routes) against real nginx back ends on loopback: per request
on one keep-alive connection (HTTP/1.1, HTTPS, HTTP/2 streams), Host without port and case, a dedicated group down
answers 503 (never the default) unless the route has an overflow (down, out of service, at max_inflight), the
`routes` table and the access log's route field, a reload that changes the routes, bad routes refused with file:line.
Usage: routes_test.py DLBA_SERVER DLBACTL (TAP on stdout)."""
import os
import re
import ssl
import subprocess
import sys
import threading

from dlbatest import ctl
from dlbatest.certs import make_certificates, ticket_key
from dlbatest.http_client import KeepAliveClient, free_port
from dlbatest.nginx import Nginx
from dlbatest.procs import TempDir, run
from dlbatest.server import DlbaServer, config_text, stop_env
from dlbatest.tap import Suite, check, main, wait_until

SERVER_BIN, DLBACTL = sys.argv[1], sys.argv[2]
suite = Suite("server/routes", setup_timeout=60)
env = {}

# nginx 1 is the bank group, 2 the securities group, 3 the default (web) group; each answers X-Backend: N.
SERVICES = ['name = "web"; backends = ["3"];', 'name = "bank"; backends = ["1"]; retries = 0;',
            'name = "sec"; backends = ["2"];']
ROUTES_A = ('routes = ( { host = "bank.example"; path_prefix = "/banking/"; service = "bank"; },\n'
            '                { path_prefix = "/securities/"; service = "sec"; } );')
ROUTES_B = 'routes = ( { path_prefix = "/banking/"; service = "bank"; overflow = "web"; } );'


def config(routes_a=ROUTES_A, routes_b=ROUTES_B):
    p = env["ports"]
    listeners = [("127.0.0.1", p["a"], False, "web"), ("127.0.0.1", p["tls"], True, "web"),
                 ("127.0.0.1", p["b"], False, "web")]
    extra = f'  workers = 2;\n  access_log = "{env["root"].path}/access.log";'
    text = config_text(env["backends"], SERVICES, listeners, extra, env["tls"])
    # The bank group takes one request at a time (max_inflight): a second one finds it full.
    text = text.replace('key = "1"; address', 'key = "1"; max_inflight = 1; address', 1)
    for port, routes in ((p["a"], routes_a), (p["tls"], routes_a), (p["b"], routes_b)):
        text = text.replace(f'port = {port}; tls = ', f'port = {port}; {routes}\n      tls = ', 1)
    return text


def setup():
    root = TempDir("dlba-server-routes-")
    env["root"] = root
    slow = "location = /banking/slow { limit_rate 20k; }"  # 40 kB: about two seconds in flight
    nginxes = [Nginx(root.path, i, f"127.0.0.{20 + i}", free_port(f"127.0.0.{20 + i}"), extra_locations=slow)
               for i in (1, 2, 3)]
    env["nginx"] = nginxes
    os.makedirs(os.path.join(nginxes[0].www, "banking"))
    with open(os.path.join(nginxes[0].www, "banking", "slow"), "wb") as f:
        f.write(b"s" * 40000)
    for n in nginxes:
        n.start()
    ca, chain, key = make_certificates(root.path)
    env["ca"] = ca
    env["tls"] = f'tls = {{ certificate = "{chain}"; key = "{key}"; ticket_keys = ["{ticket_key()}"]; }};\n'
    env["backends"] = [(str(n.index), n.address, n.port) for n in nginxes]
    env["ports"] = {name: free_port() for name in ("a", "tls", "b")}
    env["server"] = DlbaServer(SERVER_BIN, root.path, "dlba", config()).start(
        wait_for=[("127.0.0.1", p) for p in env["ports"].values()])


def teardown():
    stop_env(env)


suite.diag_hooks.append(lambda: env["server"].log_text() if "server" in env else "")


def get(path, host="x"):
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def backend(head):
    m = re.search(r"^X-Backend: (\S+)", head, re.M | re.I)
    return m.group(1) if m else None


def on_one_connection(port, requests, tls_ctx=None):
    """[(status, X-Backend)] of each raw request, sent one after another on one connection."""
    c = KeepAliveClient(port, tls_ctx=tls_ctx, timeout=5)
    try:
        out = []
        for r in requests:
            status, head, _ = c.exchange(r)
            out.append((status, backend(head)))
        return out
    finally:
        c.close()


def routes_rows():
    """{(listener port, route number): row} of the routes table."""
    t = env["server"].monitor("routes")
    cols = [c["name"] if isinstance(c, dict) else c[0] for c in t["columns"]]
    rows = {}
    for r in t["rows"]:
        row = dict(zip(cols, r))
        rows[(int(row["listener"].rsplit(":", 1)[1]), row["route"])] = row
    return rows


THREE = [get("/banking/a", "bank.example"), get("/securities/b", "bank.example"), get("/x", "bank.example")]


@suite.case("one keep-alive connection: /banking/a, /securities/b and /x reach three back-end groups")
def three_groups():
    got = on_one_connection(env["ports"]["a"], THREE)
    print(f"# {got}", flush=True)
    check(got == [(200, "1"), (200, "2"), (200, "3")], f"answers: {got}")


@suite.case("Host compared case-insensitively, without its port; another host falls to the default")
def host_match():
    got = on_one_connection(env["ports"]["a"], [get("/banking/a", "BANK.Example:8080"), get("/banking/a", "bank.EXAMPLE"),
                                                get("/banking/a", "other.example"), get("/Securities/b")])
    check(got == [(200, "1"), (200, "1"), (200, "3"), (200, "3")], f"answers: {got}")


@suite.case("HTTPS keep-alive and HTTP/2 streams are routed one by one")
def tls_and_h2():
    ctx = ssl.create_default_context(cafile=env["ca"])
    ctx.set_alpn_protocols(["http/1.1"])
    got = on_one_connection(env["ports"]["tls"], THREE, tls_ctx=ctx)
    check(got == [(200, "1"), (200, "2"), (200, "3")], f"HTTPS answers: {got}")
    base = f"https://127.0.0.1:{env['ports']['tls']}"
    cp = run(["curl", "-sS", "--http2", "--max-time", "10", "--cacert", env["ca"], "-H", "Host: bank.example",
              "-D", "-", "-o", "/dev/null", "-w", "connects=%{num_connects}\\n",
              base + "/banking/a", base + "/securities/b", base + "/x"], timeout=20)
    statuses = re.findall(r"^HTTP/(\S+) (\d+)", cp.stdout, re.M)
    backends = re.findall(r"^x-backend: (\S+)", cp.stdout, re.M | re.I)
    connects = [int(n) for n in re.findall(r"connects=(\d+)", cp.stdout)]
    print(f"# h2: {statuses} {backends} {connects}", flush=True)
    check(statuses == [("2", "200")] * 3, f"h2 statuses: {cp.stdout[-800:]}")
    check(backends == ["1", "2", "3"], f"h2 back ends: {backends}")
    check(sum(connects) == 1, f"not one connection: {connects}")


@suite.case("the routes table counts hits per listener and route; the access log names the route; dlbactl shows it")
def table_and_log():
    before = routes_rows()
    on_one_connection(env["ports"]["a"], THREE)
    after = routes_rows()
    a = env["ports"]["a"]
    check(after[(a, 1)]["hits"] - before[(a, 1)]["hits"] == 1, f"route 1: {before[(a, 1)]} -> {after[(a, 1)]}")
    check(after[(a, 2)]["hits"] - before[(a, 2)]["hits"] == 1, f"route 2: {before[(a, 2)]} -> {after[(a, 2)]}")
    check(after[(a, 1)]["service"] == "bank" and after[(a, 1)]["host"] == "bank.example" and
          after[(a, 1)]["path_prefix"] == "/banking/" and after[(a, 1)]["overflow"] == "-", f"row: {after[(a, 1)]}")
    b = env["ports"]["b"]
    check(after[(b, 1)]["overflow"] == "web" and after[(b, 1)]["host"] == "-", f"row: {after[(b, 1)]}")
    log = os.path.join(env["root"].path, "access.log")
    for pattern in (r'"GET /banking/a" 200 \d+ 1 \d+ms .*route=1$', r'"GET /securities/b" 200 \d+ 2 \d+ms .*route=2$',
                    r'"GET /x" 200 \d+ 3 \d+ms .*route=default$'):
        wait_until(lambda: re.search(pattern, open(log).read(), re.M), 10, what=f"{pattern} in the access log")
    cp = subprocess.run([DLBACTL, "-s", env["server"].socket, "routes"], capture_output=True, text=True, timeout=10)
    check(cp.returncode == 0 and "/securities/" in cp.stdout and "overflows" in cp.stdout,
          f"dlbactl routes: {cp.returncode} {cp.stdout}{cp.stderr}")


@suite.case("a reload applies changed routes")
def reload_routes():
    server = env["server"]
    changed = ROUTES_A.replace('"/securities/"', '"/sec2/"')
    with open(server.config, "w") as f:
        f.write(config(routes_a=changed))
    reply = server.monitor("reload")
    check(reply.get("ok") is not False, f"reload: {reply}")
    wait_until(lambda: on_one_connection(env["ports"]["a"], [get("/sec2/b")]) == [(200, "2")], 10,
               what="the new route to serve")
    got = on_one_connection(env["ports"]["a"], [get("/securities/b"), get("/sec2/b")])
    check(got == [(200, "3"), (200, "2")], f"after the reload: {got}")
    check(routes_rows()[(env["ports"]["a"], 2)]["path_prefix"] == "/sec2/", "table shows the old route")
    with open(server.config, "w") as f:
        f.write(config())
    check(server.monitor("reload").get("ok") is not False, "reload back")


@suite.case("bank group at max_inflight: the overflow takes the route's request")
def full_overflows():
    a, b = env["ports"]["a"], env["ports"]["b"]
    slow = {}
    t = threading.Thread(target=lambda: slow.update(r=on_one_connection(a, [get("/banking/slow", "bank.example")])))
    t.start()
    try:
        wait_until(lambda: env["server"].backends()["1"]["open_conns"] >= 1, 5, what="the slow request in flight")
        before = routes_rows()[(b, 1)]
        got = on_one_connection(b, [get("/banking/a")])
        check(got == [(200, "3")], f"with the bank group full: {got}")
        check(routes_rows()[(b, 1)]["overflows"] - before["overflows"] == 1, "overflow not counted")
    finally:
        t.join(15)
    check(slow.get("r") == [(200, "1")], f"the slow request: {slow}")


@suite.case("bank group out of service (admin state): 503 on the dedicated route; with overflow the web group serves")
def out_of_service():
    server, a, b = env["server"], env["ports"]["a"], env["ports"]["b"]
    reply = server.monitor("backend 1 out-of-service oos")
    check(reply.get("ok") is not False, f"oos: {reply}")
    try:
        before = routes_rows()[(b, 1)]
        got_a = on_one_connection(a, [get("/banking/a", "bank.example"), get("/x")])
        got_b = on_one_connection(b, [get("/banking/a")])
        check(got_a == [(503, None), (200, "3")], f"without overflow: {got_a}")
        check(got_b == [(200, "3")], f"with overflow: {got_b}")
        check(routes_rows()[(b, 1)]["overflows"] - before["overflows"] == 1, "overflow not counted")
    finally:
        server.monitor("backend 1 in-service")
    check(on_one_connection(b, [get("/banking/a")]) == [(200, "1")], "back in service: not the bank group again")


@suite.case("bank group down: 503 on the dedicated route (never the default); with overflow the web group serves")
def down_and_overflow():
    env["nginx"][0].stop()
    a, b = env["ports"]["a"], env["ports"]["b"]
    got = on_one_connection(a, [get("/banking/a", "bank.example"), get("/banking/b", "bank.example"), get("/x")])
    print(f"# without overflow: {got}", flush=True)
    check(got == [(503, None), (503, None), (200, "3")], f"answers: {got}")
    before = routes_rows()[(b, 1)]
    got = on_one_connection(b, [get("/banking/a"), get("/banking/c")])
    check(got == [(200, "3"), (200, "3")], f"with overflow: {got}")
    after = routes_rows()[(b, 1)]
    check(after["overflows"] - before["overflows"] == 2 and after["hits"] - before["hits"] == 2,
          f"counted: {before} -> {after}")
    log = os.path.join(env["root"].path, "access.log")
    wait_until(lambda: re.search(r'"GET /banking/c" 200 \d+ 3 .* route=1,overflow$', open(log).read(), re.M), 10,
               what="the overflow in the access log")


BAD = [  # (what, route replacing ROUTES_B's, words of the reason)
    ("percent in prefix", '{ path_prefix = "/bank%69ng/"; service = "bank"; }', "holds '%'"),
    ("dot-dot in prefix", '{ path_prefix = "/a/../banking/"; service = "bank"; }', "holds '..'"),
    ("prefix without slash", '{ path_prefix = "banking/"; service = "bank"; }', "must begin with '/'"),
    ("unknown service", '{ path_prefix = "/banking/"; service = "nosuch"; }', "no service named 'nosuch'"),
    ("unknown overflow", '{ path_prefix = "/banking/"; service = "bank"; overflow = "nosuch"; }',
     "no service named 'nosuch'"),
    ("overflow is the service", '{ path_prefix = "/banking/"; service = "bank"; overflow = "bank"; }',
     "route's own service"),
    ("neither host nor prefix", '{ service = "bank"; }', "needs 'host' or 'path_prefix'"),
]


@suite.case("bad routes are refused with file:line and a non-zero exit")
def refused():
    bad = os.path.join(env["root"].path, "bad.conf")
    for what, route, reason in BAD:
        with open(bad, "w") as f:
            f.write(config(routes_b=f"routes = ( {route} );"))
        line = next(i for i, l in enumerate(open(bad).read().splitlines(), 1) if route in l)
        cp = subprocess.run([SERVER_BIN, "--config", bad, "--node", "1", "--check-config"], capture_output=True,
                            text=True, timeout=10)
        out = cp.stdout + cp.stderr
        print(f"# {what}: rc {cp.returncode}: {out.strip()}", flush=True)
        check(cp.returncode != 0 and f"{bad}:{line}:" in out and reason in out, f"{what}: {cp.returncode} {out}")
    # The running server keeps its configuration.
    check(on_one_connection(env["ports"]["a"], [get("/x")]) == [(200, "3")], "not serving after the refusals")


if __name__ == "__main__":
    main(suite, setup, teardown)
