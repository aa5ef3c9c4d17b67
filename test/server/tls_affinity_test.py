"""TLS-session affinity (policy "tls_session", issue 11): the back end a TLS session's secure requests go to is
carried in its session ticket, so a client that resumes on another dlba-server process with the same ticket keys,
back ends and services (a second node of the array) reaches the same back end. Three nginx back ends; two
dlba-server processes (A and B) that differ only in their listener's port, so both run on one loopback.
Usage: tls_affinity_test.py DLBA_SERVER DLBACTL (TAP on stdout)."""
import base64
import os
import re
import socket
import ssl
import subprocess
import sys
import time

from dlbatest.certs import make_certificates, ticket_key
from dlbatest.http_client import free_port, free_ports
from dlbatest.nginx import Nginx
from dlbatest.procs import TempDir
from dlbatest.server import DlbaServer, config_text
from dlbatest.tap import Suite, check, main

SERVER_BIN, DLBACTL = sys.argv[1], sys.argv[2]
suite = Suite("server/tls_affinity", setup_timeout=120)
env = {}
ROUNDS = 20


def server_config(port, nginxes, keys, chain, key, log):
    backends = [(str(n.index), n.address, n.port) for n in nginxes]
    services = ['name = "shop"; backends = ["1", "2", "3"]; policy = "tls_session"; fallback = "least_conn"; '
                'tls_session_paths = ["/checkout/"]; down_interval_ms = 60000; retries = 2;']
    listeners = [("127.0.0.1", port, True, "shop")]
    key_list = ", ".join(f'"{k}"' for k in keys)
    tls = f'tls = {{ certificate = "{chain}"; key = "{key}"; ticket_keys = [{key_list}]; }};\n'
    return config_text(backends, services, listeners, f'  workers = 2;\n  access_log = "{log}";', tls)


def setup():
    root = TempDir("dlba-server-tls-affinity-")
    env["root"] = root
    r = root.path
    env["nginx"] = [Nginx(r, i, f"127.0.0.{10 + i}", free_port(f"127.0.0.{10 + i}")).start() for i in (1, 2, 3)]
    ca, chain, key = make_certificates(r)
    keys = [ticket_key()]
    pa = free_ports(2)
    pb = pa + 1
    env["ports"] = {"A": pa, "B": pb}
    for name, port in env["ports"].items():
        log = os.path.join(r, f"{name}.access.log")
        env[name] = DlbaServer(SERVER_BIN, r, name, server_config(port, env["nginx"], keys, chain, key, log)).start(
            wait_for=[("127.0.0.1", port)])
    env["access_logs"] = [os.path.join(r, f"{n}.access.log") for n in ("A", "B")]
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    env["client"] = client
    client12 = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client12.check_hostname = False
    client12.verify_mode = ssl.CERT_NONE
    client12.maximum_version = ssl.TLSVersion.TLSv1_2
    env["client12"] = client12


def teardown():
    for name in ("A", "B"):
        if name in env:
            env[name].stop()
    for n in env.get("nginx", []):
        n.stop()
    if "root" in env:
        env["root"].remove()


suite.diag_hooks.append(lambda: "\n".join(env[n].log_text() for n in ("A", "B") if n in env))


def get(server, path, session=None, ctx=None):
    """One request on a new TLS connection to server "A" or "B" (resuming `session`): (back end, status, reused,
    the connection's newest session)."""
    ctx = ctx or env["client"]
    with socket.create_connection(("127.0.0.1", env["ports"][server]), timeout=5) as raw:
        with ctx.wrap_socket(raw, session=session) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            reused = s.session_reused
            newest = s.session  # read after the answer: a TLS 1.3 ticket sent ahead of it has arrived
    text = data.decode(errors="replace")
    m = re.search(r"^X-Backend: (\d+)", text, re.M | re.I)
    status = int(text.split(" ", 2)[1]) if text.startswith("HTTP/1.1 ") else 0
    return (m.group(1) if m else None), status, reused, newest


def alternate(session, path="/checkout/pay", rounds=ROUNDS, ctx=None):
    """`rounds` requests, each on a new connection resuming the newest session, alternately on A and B: the back
    ends seen, and how many resumed."""
    seen, reused = [], 0
    for i in range(rounds):
        backend, status, was_reused, session = get("AB"[i % 2], path, session, ctx)
        check(status == 200, f"round {i}: status {status}")
        seen.append(backend)
        reused += 1 if was_reused else 0
    return seen, reused, session


def backends_sum(column):
    out = {}
    for name in ("A", "B"):
        for key, row in env[name].backends().items():
            out[key] = out.get(key, 0) + int(row.get(column) or 0)
    return out


@suite.case(f"Python ssl, TLS 1.3: {ROUNDS} resumptions alternately on A and B, every /checkout/ request on one "
            "nginx, and the binding counted")
def python_tls13():
    backend, status, _, session = get("A", "/checkout/start")
    check(status == 200 and backend, f"first request: status {status}, back end {backend}")
    seen, reused, session = alternate(session)
    check(reused == ROUNDS, f"only {reused} of {ROUNDS} connections resumed")
    check(set(seen) == {backend}, f"/checkout/ requests went to {seen}, not all to {backend}")
    env["bound"], env["session13"] = backend, session
    bound = backends_sum("tls_bound")
    check(bound.get(backend, 0) >= 1, f"tls_bound per back end: {bound}")


@suite.case(f"Python ssl, TLS 1.2: the binding is made in the handshake, and {ROUNDS} resumptions on A and B stay on it")
def python_tls12():
    ctx = env["client12"]
    backend, status, _, session = get("B", "/checkout/start", ctx=ctx)
    check(status == 200 and backend, f"first request: status {status}, back end {backend}")
    seen, reused, _ = alternate(session, ctx=ctx)
    check(reused == ROUNDS, f"only {reused} of {ROUNDS} connections resumed")
    check(set(seen) == {backend}, f"/checkout/ requests went to {seen}, not all to {backend}")


def s_client(server, path, *args):
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{env['ports'][server]}", "-ign_eof", *args]
    request = f"GET {path} HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n".encode()
    cp = subprocess.run(cmd, input=request, capture_output=True, timeout=15)
    out = cp.stdout.decode(errors="replace") + cp.stderr.decode(errors="replace")
    m = re.search(r"^X-Backend: (\d+)", out, re.M | re.I)
    return (m.group(1) if m else None), bool(re.search(r"^Reused, ", out, re.M)), out


@suite.case(f"openssl s_client -sess_out/-sess_in (TLS 1.3): {ROUNDS} resumptions alternately on A and B reach one "
            "nginx")
def s_client_rounds():
    sess = os.path.join(env["root"].path, "s_client.pem")
    first, _, out = s_client("A", "/checkout/cart", "-tls1_3", "-sess_out", sess)
    check(first, f"no answer:\n{out[-1500:]}")
    seen, reused = [], 0
    for i in range(ROUNDS):
        backend, was_reused, out = s_client("BA"[i % 2], "/checkout/pay", "-tls1_3", "-sess_in", sess,
                                            "-sess_out", sess)
        seen.append(backend)
        reused += was_reused
    check(reused == ROUNDS, f"only {reused} of {ROUNDS} s_client runs resumed:\n{out[-1500:]}")
    check(set(seen) == {first}, f"/checkout/ requests went to {seen}, not all to {first}")
    env["s_client_session"] = sess


@suite.case("fresh sessions spread over the back ends")
def fresh_sessions_spread():
    seen = [get("AB"[i % 2], "/checkout/start")[0] for i in range(9)]
    check(len(set(seen)) >= 2, f"nine fresh sessions all went to {seen}")


@suite.case("requests outside tls_session_paths are balanced one by one, even from a bound session")
def other_paths_spread():
    backend, _, _, session = get("A", "/checkout/start")
    seen = []
    for i in range(9):
        b, status, reused, session = get("AB"[i % 2], "/catalog/item", session)
        check(status == 200 and reused, f"request {i}: status {status}, reused {reused}")
        seen.append(b)
    check(len(set(seen)) >= 2, f"nine /catalog/ requests all went to {seen}")
    b, _, _, _ = get("B", "/checkout/pay", session)
    check(b == backend, f"the session's /checkout/ request went to {b}, not to its back end {backend}")


@suite.case("the access log says tls_session for a bound request")
def access_log_reason():
    for name in ("A", "B"):
        env[name].monitor("status")  # a timer scan flushes the logs at least every scan; give it a moment
    time.sleep(1.2)
    text = "".join(open(p).read() for p in env["access_logs"] if os.path.exists(p))
    check(re.search(r'"GET /checkout/pay" 200 \d+ \d+ \d+ms tls_session', text),
          f"no tls_session line in the access logs:\n{text[-1500:]}")


@suite.case("a tampered ticket gets a full handshake and a normal answer")
def tampered_ticket():
    sess = env["s_client_session"]
    with open(sess) as f:
        pem = f.read()
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    der = bytearray(base64.b64decode(body))
    # The ticket: SSL_SESSION's [10] field, an OCTET STRING (aa LL 04 LL ... with 1- or 2-byte DER lengths). One
    # byte in its middle changes (the encrypted state): the ticket's MAC no longer verifies.
    m = re.search(rb"\xaa(?:\x81.|\x82..)\x04(\x81(.)|\x82(..))", bytes(der), re.S)
    check(m, "no ticket in the saved session")
    length = int.from_bytes(m.group(2) or m.group(3), "big")
    check(length > 100, f"a ticket of {length} bytes")
    der[m.end() + length // 2] ^= 0x5a
    bad = os.path.join(env["root"].path, "tampered.pem")
    b64 = base64.b64encode(bytes(der)).decode()
    with open(bad, "w") as f:
        f.write("-----BEGIN SSL SESSION PARAMETERS-----\n" +
                "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)) +
                "\n-----END SSL SESSION PARAMETERS-----\n")
    backend, reused, out = s_client("B", "/checkout/pay", "-tls1_3", "-sess_in", bad)
    check(backend is not None and "HTTP/1.1 200" in out, f"no normal answer after a tampered ticket:\n{out[-1500:]}")
    check(not reused and re.search(r"^New, ", out, re.M), f"a tampered ticket resumed:\n{out[-1500:]}")
    check("SSL-Session" in out and "unable to" not in out.lower(),
          f"s_client did not load the tampered session:\n{out[-1500:]}")


@suite.case("the bound nginx killed: the session's requests move to another back end and stick there, on A and B")
def bound_backend_killed():
    bound = env["bound"]
    session = env["session13"]
    rebound_before = sum(backends_sum("tls_rebound").values())
    env["nginx"][int(bound) - 1].kill()
    seen, reused, session = alternate(session, rounds=10)
    check(reused == 10, f"only {reused} of 10 connections resumed")
    check(bound not in seen, f"requests still went to the dead back end {bound}: {seen}")
    check(len(set(seen)) == 1, f"after the move the session's requests went to {seen}, not to one back end")
    rebound = backends_sum("tls_rebound")
    check(rebound.get(seen[0], 0) >= 1 and sum(rebound.values()) > rebound_before,
          f"tls_rebound per back end: {rebound}")


if __name__ == "__main__":
    main(suite, setup, teardown)
