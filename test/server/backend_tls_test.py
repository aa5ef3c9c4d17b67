"""TLS from dlba-server to its back ends: real nginx back ends that listen with TLS only and log, per request, the
protocol, whether the session was resumed and how many requests their connection carried. Covers verification
against the configured CA (a wrong CA sends the requests elsewhere and is counted), pooled TLS connections reused,
saved sessions resumed on new connections, no plaintext on the back-end wire (a capture on loopback, checked
against the plain client leg as a control), and unusable TLS files refused with file:line. Prewarmed tunnels
(pool.prewarm): opened and handshaken before the first request, few connections for 200 requests, a POST never first
on a waiting connection, a killed back end's tunnels closed and not refilled until it is back, a reload's new count.
Usage: backend_tls_test.py DLBA_SERVER DLBACTL (TAP on stdout)."""
import os
import subprocess
import sys
import time
import urllib.request

from dlbatest.certs import _new_key, make_certificates

from dlbatest.http_client import free_port, free_ports
from dlbatest.nginx import Nginx
from dlbatest.procs import TempDir
from dlbatest.server import ARRAY, DlbaServer, stop_env
from dlbatest.tap import Suite, check, main, wait_until

SERVER_BIN, DLBACTL = sys.argv[1], sys.argv[2]
suite = Suite("server/backend_tls", setup_timeout=120)
env = {}


def backend(key, nginx, ca, sni="localhost", verify="required"):
    ca_line = f'ca_file = "{ca}"; ' if verify == "required" else ""
    return (f'  {{ key = "{key}"; address = "{nginx.address}"; port = {nginx.port};\n'
            f'    tls = {{ enabled = true; verify = "{verify}"; {ca_line}sni = "{sni}"; }}; }}')


WORKERS = 2
PREWARM = 2
IDLE_TIMEOUT_MS = 2000


def config(ca, wrong_ca_path, port, prewarm=PREWARM):
    n = env["nginx"]
    backends = [backend("pooled", n[0], ca), backend("fresh", n[1], ca), backend("wrongca", n[2], wrong_ca_path),
                backend("warm", n[3], ca)]
    services = ['name = "pooled"; backends = ["pooled"]; pool = { idle_per_backend = 4; };',
                'name = "fresh"; backends = ["fresh"];',
                'name = "mixed"; backends = ["wrongca", "fresh"]; retries = 2;',
                # Idle ones above the prewarm count go after 2 s; a dead back end is tried again after 1 s.
                f'name = "warm"; backends = ["warm"]; down_interval_ms = 1000; '
                f'pool = {{ idle_per_backend = 4; idle_timeout_ms = {IDLE_TIMEOUT_MS}; prewarm = {prewarm}; }};']
    listeners = [("pooled", port), ("fresh", port + 1), ("mixed", port + 2), ("warm", port + 3)]
    l = ",\n".join(f'    {{ address = "127.0.0.1"; port = {p}; tls = false; service = "{s}"; }}' for s, p in listeners)
    s = ",\n".join(f"  {{ {x} }}" for x in services)
    return (ARRAY + "backends = (\n" + ",\n".join(backends) + "\n);\n" + f"services = (\n{s}\n);\n" +
            f"server = {{\n  workers = {WORKERS};\n  listeners = (\n{l}\n  );\n}};\n")




def setup():
    root = TempDir("dlba-backend-tls-")
    env["root"] = root
    r = root.path
    ca, chain, key = make_certificates(r)
    # Another CA nobody signed the back ends' certificates with.
    wrong_key, wrong_ca = os.path.join(r, "wrong-ca.key"), os.path.join(r, "wrong-ca.pem")
    _new_key(wrong_key, wrong_ca, "/CN=Not the back ends' CA", "-x509", "-days", "2")
    env.update(ca=ca, wrong_ca=wrong_ca)
    env["nginx"] = [Nginx(r, i + 1, f"127.0.0.{31 + i}", free_port(f"127.0.0.{31 + i}"), tls=(chain, key)).start()
                    for i in range(4)]
    port = free_ports(4)
    env["port"] = port
    env["server"] = DlbaServer(SERVER_BIN, r, "s", config(ca, wrong_ca, port)).start(
        wait_for=[("127.0.0.1", port + i) for i in range(4)])


def teardown():
    stop_env(env)


suite.diag_hooks.append(lambda: env["server"].log_text() if "server" in env else "")


def get(port, path="/", timeout=5):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return r.status, r.read().decode()


def keepalive_gets(port, count, path="/", methods=None):
    """`count` requests on one kept-alive client connection (methods[i] for the i-th, GET by default); the
    statuses and bodies."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    bodies = []
    try:
        for i in range(count):
            method = methods[i] if methods else "GET"
            body = b"posted" if method == "POST" else None
            c.request(method, path, body=body, headers={"Host": "localhost"})
            resp = c.getresponse()
            bodies.append((resp.status, resp.read().decode()))
    finally:
        c.close()
    return bodies


def access_lines(nginx):
    with open(nginx.access_log) as f:
        return [line.split(" ", 4) for line in f.read().splitlines() if line.strip()]


@suite.case("pooled TLS connections: 200 requests, nginx saw TLS only, few connections each carrying many requests")
def pooled():
    answers = keepalive_gets(env["port"], 200)
    check(all(s == 200 and b == "backend 1\n" for s, b in answers), f"answers: {answers[:3]} ...")
    lines = access_lines(env["nginx"][0])
    check(len(lines) == 200, f"nginx 1 logged {len(lines)} requests")
    protocols = {l[0] for l in lines}
    check(protocols <= {"TLSv1.3", "TLSv1.2"}, f"protocols nginx saw: {protocols}")
    connections = {l[2] for l in lines}
    reuse = max(int(l[3]) for l in lines)
    # At most one connection per worker stays busy for one client; the pool keeps it between requests.
    check(len(connections) <= 4, f"{len(connections)} back-end connections for 200 requests")
    check(reuse > 1, f"most requests on one back-end connection: {reuse}")
    row = env["server"].backends()["pooled"]
    print(f"# pooled: {len(lines)} requests over {len(connections)} TLS connections ({protocols}), at most {reuse} "
          f"on one; handshakes {row['backend_handshakes']}, pooled reuses {row['pooled_reuses']}", flush=True)
    check(row["tls"] is True and row["backend_handshakes"] == len(connections),
          f"back-end table: tls={row['tls']} handshakes={row['backend_handshakes']} nginx connections={len(connections)}")
    check(row["pooled_reuses"] >= 190, f"pooled reuses {row['pooled_reuses']}")


@suite.case("fresh connections resume the saved TLS session: nginx reports reused sessions, the table counts them")
def resumed():
    for _ in range(20):
        status, body = get(env["port"] + 1)
        check(status == 200 and body == "backend 2\n", f"answer {status} {body!r}")
    lines = access_lines(env["nginx"][1])
    check(len(lines) == 20, f"nginx 2 logged {len(lines)} requests")
    check(len({l[2] for l in lines}) == 20, "each request on its own back-end connection (no pool)")
    reused = sum(1 for l in lines if l[1] == "r")
    # Two workers each make one full handshake before they have a session to resume.
    check(reused >= 18, f"nginx saw {reused} of 20 sessions resumed")
    row = env["server"].backends()["fresh"]
    print(f"# fresh: nginx saw {reused}/20 resumed; handshakes {row['backend_handshakes']}, "
          f"resumed {row['backend_resumed']}", flush=True)
    check(row["backend_handshakes"] >= 20 and row["backend_resumed"] >= 18,
          f"handshakes {row['backend_handshakes']}, resumed {row['backend_resumed']}")


@suite.case("a back end whose certificate does not verify: requests go elsewhere, tls_verify_failures counts")
def wrong_ca():
    for _ in range(6):
        status, body = get(env["port"] + 2)
        check(status == 200 and body == "backend 2\n", f"answer {status} {body!r}")
    rows = env["server"].backends()
    bad = rows["wrongca"]
    print(f"# wrong CA: state {bad['state']}, tls_verify_failures {bad['tls_verify_failures']}", flush=True)
    check(bad["tls_verify_failures"] >= 1, f"tls_verify_failures {bad['tls_verify_failures']}")
    check(bad["state"] == "down", f"the unverified back end is {bad['state']}")
    check(len(access_lines(env["nginx"][2])) == 0, "a request reached the unverified back end")
    log = env["server"].log_text()
    check("certificate verification failed" in log, f"no reason logged:\n{log}")


@suite.case("no plaintext on the back-end wire (capture on loopback; the plain client leg is the control)")
def capture():
    r = env["root"].path
    pcap = os.path.join(r, "lo.pcap")
    n = env["nginx"][1]
    p = subprocess.Popen(["tcpdump", "-i", "lo", "-n", "-U", "-w", pcap, "-s", "0",
                          f"tcp port {n.port} or tcp port {env['port'] + 1}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: os.path.exists(pcap) and os.path.getsize(pcap) > 0, 5, what="tcpdump to start")
        time.sleep(0.5)
        for _ in range(5):
            get(env["port"] + 1, "/secret-path")
        time.sleep(0.5)
    finally:
        p.terminate()
        p.wait(5)

    def payload(port):
        out = subprocess.run(["tcpdump", "-r", pcap, "-n", "-A", f"tcp port {port}"], capture_output=True,
                             timeout=30).stdout.decode(errors="replace")
        return out

    client_leg, backend_leg = payload(env["port"] + 1), payload(n.port)
    check("GET /secret-path" in client_leg, "control: the plain client leg shows the request")
    check(backend_leg.count("IP 127.0.0.") >= 20, f"the back-end leg was captured:\n{backend_leg[:500]}")
    check("secret-path" not in backend_leg and "HTTP/1.1" not in backend_leg,
          "plaintext HTTP on the back-end leg")


@suite.case("an unreadable CA file or client key is refused with file:line; the running configuration stays")
def refused():
    server = env["server"]
    r = env["root"].path
    with open(server.config) as f:
        text = f.read()
    bad = os.path.join(r, "bad.conf")
    with open(bad, "w") as f:
        f.write(text.replace(env["wrong_ca"], os.path.join(r, "missing-ca.pem")))
    reply = server.monitor(f"check-reload {bad}")
    line = next(i + 1 for i, l in enumerate(text.splitlines()) if env["wrong_ca"] in l)  # where ca_file is set
    check(reply["ok"] is False and f"{bad}:{line}:" in reply["error"] and "CA file" in reply["error"],
          f"check-reload of a missing CA: {reply}")
    with open(bad, "w") as f:
        f.write(text.replace('sni = "localhost"; }', 'sni = "localhost"; certificate = "/nonexistent.pem"; }', 1))
    reply = server.monitor(f"check-reload {bad}")
    check(reply["ok"] is False and "needs both 'certificate' and 'key'" in reply["error"],
          f"a certificate without a key: {reply}")
    status, body = get(env["port"] + 1)
    check(status == 200 and body == "backend 2\n", "the running configuration still serves")


def warm_row():
    return env["server"].backends()["warm"]


@suite.case("prewarm: with no request yet, prewarm x workers TLS tunnels are open, handshaken and idle")
def prewarm_at_start():
    want = PREWARM * WORKERS
    wait_until(lambda: warm_row()["idle_pooled"] == want, 10, what=f"idle_pooled == {want}")
    time.sleep(0.3)  # nothing more follows
    row = warm_row()
    print(f"# prewarm at start: idle_pooled {row['idle_pooled']}, handshakes {row['backend_handshakes']}, "
          f"hits {row['hits']}", flush=True)
    check(row["idle_pooled"] == want, f"idle_pooled {row['idle_pooled']}, want {want}")
    check(row["backend_handshakes"] == want, f"handshakes {row['backend_handshakes']} before any request")
    check(row["hits"] == 0 and len(access_lines(env["nginx"][3])) == 0, "a request went to the back end")


@suite.case("prewarm: 200 requests over prewarmed tunnels: TLS only, at most prewarm x workers connections, reused")
def prewarm_traffic():
    before = warm_row()["backend_handshakes"]
    started = time.monotonic()
    answers = []
    for _ in range(4):  # four client connections one after another, 50 requests each
        answers += keepalive_gets(env["port"] + 3, 50)
    check(all(s == 200 and b == "backend 4\n" for s, b in answers), f"answers: {answers[:3]} ...")
    elapsed = time.monotonic() - started
    lines = access_lines(env["nginx"][3])
    check(len(lines) == 200, f"nginx 4 logged {len(lines)} requests")
    protocols = {l[0] for l in lines}
    check(protocols <= {"TLSv1.3", "TLSv1.2"}, f"protocols nginx saw: {protocols}")
    carried = {l[2] for l in lines}
    reuse = max(int(l[3]) for l in lines)
    row = warm_row()
    opened = row["backend_handshakes"]
    print(f"# prewarm traffic: {len(carried)} connections carried the 200 requests (at most {reuse} on one); "
          f"{opened} opened in all ({before} before the first request); pooled reuses {row['pooled_reuses']}",
          flush=True)
    check(len(carried) <= PREWARM * WORKERS, f"{len(carried)} back-end connections carried requests")
    # Allowance: while a request holds a tunnel the pool keeps PREWARM others ready, so a worker's first request
    # makes one refill (these clients send one request at a time); one above the count expires after
    # idle_timeout_ms and the next request that takes a tunnel refills again: one more per worker per timeout.
    allowance = WORKERS * (1 + int(elapsed * 1000 // IDLE_TIMEOUT_MS))
    check(opened <= PREWARM * WORKERS + allowance,
          f"{opened} back-end connections opened in {elapsed:.1f} s (allowance {allowance})")
    check(reuse > 1, f"at most {reuse} requests on one back-end connection")
    check(row["pooled_reuses"] == 200, f"pooled reuses {row['pooled_reuses']}: every request on a waiting tunnel")
    # The refills above the prewarm count close after idle_timeout_ms; the prewarm count stays.
    wait_until(lambda: warm_row()["idle_pooled"] == PREWARM * WORKERS, IDLE_TIMEOUT_MS / 1000 + 3,
               what="the pool back at the prewarm count")


@suite.case("prewarm: a POST never goes first on a prewarmed or reused tunnel (nginx: its connection's 1st request)")
def prewarm_post():
    methods = ["GET", "GET", "POST", "GET", "POST"]
    answers = keepalive_gets(env["port"] + 3, len(methods), methods=methods)
    check(all(s == 200 for s, _ in answers), f"answers {answers}")
    posts = [l for l in access_lines(env["nginx"][3]) if l[4].startswith("POST ")]
    print(f"# POST lines (protocol reused connection connection_requests request): {posts}", flush=True)
    check(len(posts) == 2, f"nginx logged {len(posts)} POSTs")
    check(all(l[3] == "1" for l in posts), f"a POST was not its connection's first request: {posts}")


@suite.case("prewarm: a killed back end's tunnels are closed and not refilled (bounded retries); back, refilled")
def prewarm_dead_backend():
    n = env["nginx"][3]
    wait_until(lambda: warm_row()["idle_pooled"] == PREWARM * WORKERS, 5, what="a full pool first")
    n.kill()
    wait_until(lambda: warm_row()["idle_pooled"] == 0, 5, what="the dead back end's tunnels closed")
    wait_until(lambda: warm_row()["state"] == "down", 5, what="the back end marked down")
    failures = warm_row()["connect_failures"]
    time.sleep(2.0)
    row = warm_row()
    tries = row["connect_failures"] - failures
    print(f"# killed: idle_pooled {row['idle_pooled']}, state {row['state']}, {tries} failed prewarm connects in "
          f"2 s", flush=True)
    check(row["idle_pooled"] == 0, f"idle_pooled {row['idle_pooled']} while the back end is dead")
    # One probe per worker per down interval (1 s): about 2 x 2; a storm would be thousands.
    check(tries <= 3 * WORKERS, f"{tries} connects to a dead back end in 2 s")
    handshakes = row["backend_handshakes"]
    n.start()
    wait_until(lambda: warm_row()["idle_pooled"] == PREWARM * WORKERS, 5, what="refilled once the back end is back")
    row = warm_row()
    check(row["state"] == "up", f"state {row['state']} after the back end came back")
    check(row["backend_handshakes"] - handshakes >= PREWARM * WORKERS, "the refill made new handshakes")
    status, body = get(env["port"] + 3)
    check(status == 200 and body == "backend 4\n", f"answer {status} {body!r}")


@suite.case("prewarm: a reload's prewarm count applies (TLS tunnels made again under the new generation)")
def prewarm_reload():
    server = env["server"]
    with open(server.config, "w") as f:
        f.write(config(env["ca"], env["wrong_ca"], env["port"], prewarm=1))
    reply = server.monitor("reload")
    check(reply["ok"] is True, f"reload: {reply}")
    wait_until(lambda: warm_row()["idle_pooled"] == WORKERS, 5, what=f"idle_pooled == {WORKERS} (prewarm 1)")
    time.sleep(0.3)
    check(warm_row()["idle_pooled"] == WORKERS, f"idle_pooled {warm_row()['idle_pooled']}")
    status, body = get(env["port"] + 3)
    check(status == 200 and body == "backend 4\n", f"answer {status} {body!r}")


if __name__ == "__main__":
    sys.exit(main(suite, setup, teardown))
