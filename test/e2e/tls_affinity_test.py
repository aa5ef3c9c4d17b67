#!/usr/bin/python3
"""TLS-session affinity through the whole Pentaflow (issue 11): the array's 443 listener is switched (by a config
push) to a service with policy "tls_session" for /checkout/; a client behind the router resumes one TLS session
again and again from different source ports, so the scheduler's bucket hash spreads the connections over the
nodes. Every /checkout/ request reaches one web server whichever node terminated the TLS, with no table shared
between the nodes (the binding is in the ticket); killing that web server moves the session to another one, where it
stays. TAP, one line per case; root."""
import os
import re
import signal
import socket
import ssl

from dlbatest import array
from dlbatest.netns import ns_socket
from dlbatest.tap import Suite, check, wait_until
from dlbatest.topo import CLIENT_IP, NODES, VIP

suite = Suite("e2e-tls_affinity")
state = {}
ROUNDS = 20
SHOP = '''  {
    name = "shop";
    backends = ["1", "2", "3"];
    policy = "tls_session";
    fallback = "least_conn";
    tls_session_paths = ["/checkout/"];
    down_interval_ms = 60000;
  },
'''


def setup():
    arr = array.bring_up(state, "dlba-e2e-tls-affinity-")
    with open(os.path.join(arr.rundir, "n1.conf")) as f:
        text = f.read()
    text, n1 = re.subn(r'(\{ port = 443; tls = true; service = )"web"', r'\1"shop"', text)
    text, n2 = re.subn(r"(?m)^services = \(\n", "services = (\n" + SHOP, text)
    check(n1 == 1 and n2 == 1, "conf/dlba.conf has no 443 listener or services list to change")
    array.push_config(state, text, "shop.conf")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(arr.ca())
    ctx.check_hostname = False
    state["ctx"] = ctx
    state["port"] = 41000


def requests_per_node():
    arr = state["array"]
    return {n: arr.server_counters(n).get("requests", 0) for n in NODES}


def get(path, session=None):
    """One request on a new TLS connection to VIP:443 from a new client port: (web server, node, reused, newest
    session)."""
    state["port"] += 1
    before = requests_per_node()
    sock = ns_socket(state["array"].ns("client"), socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((CLIENT_IP, state["port"]))
    sock.connect((VIP, 443))
    with state["ctx"].wrap_socket(sock, session=session) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {VIP}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        reused, newest = s.session_reused, s.session
    after = requests_per_node()
    nodes = [n for n in NODES if after[n] > before[n]]
    m = re.search(r"web (\d) ", data.decode(errors="replace"))
    return (int(m.group(1)) if m else None), (nodes[0] if len(nodes) == 1 else None), reused, newest


def resume_rounds(session, rounds):
    webs, nodes, reused = [], [], 0
    for i in range(rounds):
        web, node, was_reused, session = get(f"/checkout/{i}", session)
        webs.append(web)
        nodes.append(node)
        reused += 1 if was_reused else 0
    return webs, nodes, reused, session


@suite.case(f"one TLS session resumed {ROUNDS} times from different client ports: on at least two nodes, every "
            "/checkout/ request on one web server", timeout=120)
def sticks_across_nodes():
    web, node, _, session = get("/checkout/start")
    check(web is not None, "no answer from a web server")
    webs, nodes, reused, session = resume_rounds(session, ROUNDS)
    suite.diag(f"bound to web {web}; nodes {nodes}; web servers {webs}")
    check(reused == ROUNDS, f"only {reused} of {ROUNDS} connections resumed")
    check(len({n for n in nodes if n}) >= 2, f"the connections all landed on node(s) {set(nodes)}")
    check(set(webs) == {web}, f"/checkout/ requests went to {webs}, not all to web {web}")
    state["web"], state["session"] = web, session


@suite.case("fresh sessions spread over the web servers", timeout=60)
def fresh_sessions_spread():
    webs = [get("/checkout/start")[0] for _ in range(9)]
    check(len(set(webs)) >= 2, f"nine fresh sessions all went to {webs}")


@suite.case("the bound web server killed: the session moves to another one and stays there, on every node",
            timeout=120)
def bound_web_killed():
    check("web" in state, "no bound session (previous case)")
    arr = state["array"]
    pidfile = os.path.join(arr.rundir, f"web{state['web']}", "nginx.pid")
    with open(pidfile) as f:
        pid = int(f.read().strip())
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not os.path.exists(f"/proc/{pid}"), 10, 0.1, "the web server to stop")
    webs, nodes, reused, _ = resume_rounds(state["session"], 12)
    suite.diag(f"after web {state['web']} died: nodes {nodes}; web servers {webs}")
    check(reused == 12, f"only {reused} of 12 connections resumed")
    check(state["web"] not in webs and None not in webs, f"requests went to {webs}")
    check(len(set(webs)) == 1, f"the moved session went to {webs}, not to one web server")
    check(len({n for n in nodes if n}) >= 2, f"the connections all landed on node(s) {set(nodes)}")


if __name__ == "__main__":
    array.main(suite, state, setup)
