"""QoS: priority classes for requests contending for a back end. Real nginx back ends answering /slow in about a
second (limit_rate), each with max_inflight = 1 in dlba-server (two workers): class-0 requests overtake class-7 ones
that queued first, the tables show the queue while it stands, the access log says class and queue_ms, a queue
timeout answers 503 with Retry-After and is counted, a full queue answers 503 at once, a client that closes while it
waits leaves the queue, and a waiting request's body is not read.
Usage: qos_test.py DLBA_SERVER DLBACTL (TAP on stdout)."""
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time

from dlbatest.http_client import free_port, free_ports
from dlbatest.nginx import Nginx
from dlbatest.procs import TempDir
from dlbatest.server import ARRAY, DlbaServer, stop_env
from dlbatest.tap import Suite, check, main, wait_until

SERVER_BIN, DLBACTL = sys.argv[1], sys.argv[2]
suite = Suite("server/qos", setup_timeout=120)
env = {}

RATE = 20000  # bytes a second: /slow (40 kB) takes about a second, /slow2 (60 kB) about two
SLOW = ("location = /slow { limit_rate 20k; }\n    location = /slow2 { limit_rate 20k; }\n"
        "    location = /fast { return 200 \"fast\\n\"; }")


def config(port, log):
    n1, n2 = env["nginx"]
    return ARRAY + f"""backends = (
  {{ key = "web1"; address = "{n1.address}"; port = {n1.port}; max_inflight = 1; }},
  {{ key = "web2"; address = "{n2.address}"; port = {n2.port}; max_inflight = 1; }}
);
services = (
  {{ name = "web"; backends = ["web1"]; queue = {{ timeout_ms = 30000; max_queued = 20; }};
    classes = ( {{ class = 0; cookie = "tier=gold"; }}, {{ class = 3; path_prefix = "/dav/"; }} ); }},
  {{ name = "short"; backends = ["web2"]; queue = {{ timeout_ms = 700; max_queued = 2; }}; }},
  {{ name = "sticky"; backends = ["web1", "web2"]; policy = "cookie"; session_cookie = "JSESSIONID";
    queue = {{ timeout_ms = 30000; max_queued = 20; }}; }}
);
server = {{
  workers = 2;
  access_log = "{log}";
  listeners = (
    {{ address = "127.0.0.1"; port = {port}; tls = false; service = "web"; }},
    {{ address = "127.0.0.1"; port = {port + 1}; tls = false; service = "short"; }},
    {{ address = "127.0.0.1"; port = {port + 2}; tls = false; service = "sticky"; }}
  );
}};
"""


def setup():
    root = TempDir("dlba-qos-")
    env["root"] = root
    r = root.path
    env["nginx"] = [Nginx(r, i + 1, f"127.0.0.{41 + i}", free_port(f"127.0.0.{41 + i}"), extra_locations=SLOW)
                    for i in range(2)]
    for n in env["nginx"]:
        with open(os.path.join(n.www, "slow"), "wb") as f:
            f.write(b"s" * (2 * RATE))
        with open(os.path.join(n.www, "slow2"), "wb") as f:
            f.write(b"s" * (3 * RATE))
        n.start()
    port = free_ports(3)
    env["port"] = port
    env["access_log"] = os.path.join(r, "access.log")
    env["server"] = DlbaServer(SERVER_BIN, r, "s", config(port, env["access_log"])).start(
        wait_for=[("127.0.0.1", port + i) for i in range(3)])




def teardown():
    stop_env(env)


suite.diag_hooks.append(lambda: env["server"].log_text() if "server" in env else "")


def request(port, path, cookie=None, timeout=60):
    """One request on its own connection: (status, headers, body, seconds from start to the last byte)."""
    start = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Cookie": cookie} if cookie else {}
        c.request("GET", path, headers=headers)
        r = c.getresponse()
        body = r.read()
        return r.status, dict(r.getheaders()), body, time.monotonic() - start
    finally:
        c.close()


def in_thread(results, key, *args, **kw):
    def run():
        try:
            results[key] = request(*args, **kw)
        except Exception as e:  # noqa: BLE001 - reported by the case
            results[key] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def counters():
    return env["server"].counters()


def dlbactl_status():
    out = subprocess.run([DLBACTL, "-s", env["server"].socket, "status"], capture_output=True, text=True, timeout=10)
    return out.stdout


@suite.case("6 class-7 requests, then 6 class-0 ones, max_inflight = 1: every class-0 answer comes before the "
            "class-7 ones that waited; the tables show the queue while it stands", timeout=60)
def ordering():
    port = env["port"]
    results, threads, ends = {}, [], {}
    t0 = time.monotonic()
    for i in range(6):
        threads.append(in_thread(results, ("7", i), port, "/slow"))
        if i == 0:  # the first takes the slot
            wait_until(lambda: env["server"].backends()["web1"]["open_conns"] == 1, 5, what="the first request")
    wait_until(lambda: counters().get("queue.web.class7") == 5, 5, what="five class-7 requests queued")
    for i in range(6):
        threads.append(in_thread(results, ("0", i), port, "/slow", cookie="sid=1; tier=gold"))
    snapshot = wait_until(lambda: (lambda c: c if c.get("queue.web.class0") == 6 else None)(counters()), 5,
                          what="six class-0 requests queued")
    row = env["server"].backends()["web1"]
    text = dlbactl_status()
    print(f"# mid-run: queue.web.class0={snapshot['queue.web.class0']} class7={snapshot['queue.web.class7']} "
          f"queued={snapshot['queued']}; web1 open_conns={row['open_conns']} max_inflight={row['max_inflight']} "
          f"queued={row['queued']}", flush=True)
    check(snapshot["queue.web.class7"] == 5 and snapshot["queued"] == 11, f"status mid-run: {snapshot}")
    check(row["queued"] == 11 and row["open_conns"] == 1 and row["max_inflight"] == 1, f"web1 row mid-run: {row}")
    check("queue.web.class0" in text and "queue.web.class7" in text, f"dlbactl status shows no queue:\n{text}")
    for t in threads:
        t.join(60)
    for k, v in results.items():
        check(not isinstance(v, Exception) and v[0] == 200 and len(v[2]) == 2 * RATE, f"request {k}: {v}")
        ends[k] = v[3] + 0  # seconds from each one's start; all started within ~0.5 s
    total = time.monotonic() - t0
    last0 = max(results[("0", i)][3] for i in range(6))
    waited7 = sorted(results[("7", i)][3] for i in range(1, 6))
    print(f"# {total:.1f} s in all; class-0 done by {last0:.1f} s; the waiting class-7 ones done at "
          f"{', '.join(f'{x:.1f}' for x in waited7)} s", flush=True)
    # Completion times are measured from each request's own start: the class-0 ones started later, which only
    # makes this stricter.
    check(last0 < waited7[0], f"a class-7 request ({waited7[0]:.2f} s) finished before the last class-0 one "
          f"({last0:.2f} s)")
    c = counters()
    check(c["queued"] == 0 and c["queue_waited"] >= 11, f"after: {c}")


@suite.case("the access log says class and queue_ms; waited requests name the wait")
def access_log():
    def lines():
        with open(env["access_log"]) as f:
            return [l for l in f.read().splitlines() if '"GET /slow"' in l]
    ls = wait_until(lambda: (lambda x: x if len(x) >= 12 else None)(lines()), 5, what="12 access log lines")
    classes = [l.split(" class=")[1].split()[0] for l in ls]
    waits = [int(l.split("queue_ms=")[1].split()[0]) for l in ls]
    print(f"# e.g. {ls[-1]}", flush=True)
    check(classes.count("0") == 6 and classes.count("7") == 6, f"classes logged: {classes}")
    check(sum(1 for w in waits if w >= 500) >= 10, f"queue_ms logged: {waits}")


@suite.case("queue timeout: 503 with Retry-After, counted; queue full: 503 at once", timeout=30)
def timeouts():
    port = env["port"] + 1  # service "short": timeout_ms = 700, max_queued = 2, /slow2 takes ~2 s
    before = counters()
    results, threads = {}, []
    threads.append(in_thread(results, "holder", port, "/slow2"))
    wait_until(lambda: env["server"].backends()["web2"]["open_conns"] == 1, 5, what="the slot holder")
    for i in range(2):
        threads.append(in_thread(results, i, port, "/fast"))
    wait_until(lambda: counters().get("queue.short.class7") == 2, 5, what="two waiting")
    status, headers, body, took = request(port, "/fast", timeout=10)
    print(f"# full queue: {status} in {took * 1000:.0f} ms, Retry-After {headers.get('Retry-After')}", flush=True)
    check(status == 503 and took < 0.3, f"full queue answered {status} after {took:.2f} s")
    check(headers.get("Retry-After") == "1", f"full queue headers: {headers}")
    for t in threads:
        t.join(10)
    for i in range(2):
        status, headers, body, took = results[i]
        print(f"# waiter {i}: {status} after {took * 1000:.0f} ms, Retry-After {headers.get('Retry-After')}",
              flush=True)
        check(status == 503 and headers.get("Retry-After") == "1" and 0.6 < took < 1.3,
              f"waiter {i}: {status} {headers} after {took:.2f} s")
    check(results["holder"][0] == 200, f"slot holder: {results['holder'][:2]}")
    after = counters()
    row = env["server"].backends()["web2"]
    check(after["queue_timeouts"] - before["queue_timeouts"] == 2, f"queue_timeouts {before} -> {after}")
    check(after["queue.short.timeouts"] == 2 and after["queue.short.full"] == 1, f"short's figures: {after}")
    check(row["queue_timeouts"] == 2 and row["queued"] == 0, f"web2 row: {row}")


@suite.case("a client that closes while it waits leaves the queue")
def abandoned():
    port = env["port"] + 1
    results = {}
    t = in_thread(results, "holder", port, "/slow2")
    wait_until(lambda: env["server"].backends()["web2"]["open_conns"] == 1, 5, what="the slot holder")
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
    wait_until(lambda: counters().get("queue.short.class7") == 1, 5, what="one waiting")
    s.close()
    wait_until(lambda: counters().get("queue.short.class7") == 0, 2, what="the closed client to leave the queue")
    c = counters()
    check(c["queue.short.abandoned"] == 1, f"abandoned: {c}")
    t.join(10)
    check(results["holder"][0] == 200, f"slot holder: {results['holder'][:2]}")


@suite.case("a waiting request's body is not read; it is sent once the request has its slot")
def body_unread():
    port = env["port"]
    results = {}
    t = in_thread(results, "holder", port, "/slow")
    wait_until(lambda: env["server"].backends()["web1"]["open_conns"] == 1, 5, what="the slot holder")
    body = os.urandom(256 * 1024)
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(f"PUT /dav/qos.bin HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        wait_until(lambda: counters().get("queue.web.class3") == 1, 5, what="the PUT to wait (class 3)")
        read_before = counters()["bytes_in"]
        s.sendall(body)  # the kernel's buffers take it; the server must not
        time.sleep(0.4)
        read_while = counters()["bytes_in"]
        print(f"# bytes_in grew by {read_while - read_before} while the PUT waited", flush=True)
        check(read_while == read_before, f"the server read {read_while - read_before} bytes of a waiting body")
        answer = b""
        s.settimeout(10)
        while b"\r\n\r\n" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
        check(answer.startswith(b"HTTP/1.1 201"), f"PUT answer: {answer[:200]!r}")
    finally:
        s.close()
    with open(os.path.join(env["nginx"][0].dir, "dav", "qos.bin"), "rb") as f:
        check(f.read() == body, "the body the back end stored differs")
    t.join(10)


@suite.case("a request bound by its cookie waits for its full back end; unbound ones go to the one with room")
def bound_waits():
    port = env["port"] + 2  # service "sticky": web1 and web2, cookie policy
    results = {}
    holder = in_thread(results, "holder", port, "/slow", cookie="SpServer=web1")
    wait_until(lambda: env["server"].backends()["web1"]["open_conns"] == 1, 5, what="web1's slot taken")
    bound = in_thread(results, "bound", port, "/fast", cookie="SpServer=web1")
    wait_until(lambda: env["server"].backends()["web1"]["queued"] == 1, 5, what="the bound request to wait")
    c = counters()
    web2 = env["server"].backends()["web2"]
    check(web2["queued"] == 0, f"a request bound to web1 counts as waiting for web2: {web2}")
    # Meanwhile a request without the cookie is balanced to the back end with room, at once.
    status, headers, body, took = request(port, "/fast")
    check(status == 200 and headers.get("X-Backend") == "2" and took < 0.5,
          f"unbound request: {status} X-Backend {headers.get('X-Backend')} after {took:.2f} s")
    bound.join(10)
    holder.join(10)
    status, headers, body, took = results["bound"]
    print(f"# bound request: waited for web1, answered {status} by back end {headers.get('X-Backend')} after "
          f"{took:.2f} s (queue.sticky.class7 was {c.get('queue.sticky.class7')})", flush=True)
    check(status == 200 and headers.get("X-Backend") == "1" and took > 0.5,
          f"bound request: {status} X-Backend {headers.get('X-Backend')} after {took:.2f} s")


if __name__ == "__main__":
    main(suite, setup, teardown)
