#!/usr/bin/python3
"""Stateful-URI pinning through the whole Pentaflow (issue 13): a config push gives the array's "web" service
(policy cookie, VIP:80 and VIP:443) and its "cache" service (policy url_hash, VIP:8080) a pin on /banking/*, exit
/banking/logout. A client behind the router opens a new connection for every request, from a new source port, so
the scheduler's bucket hash spreads them over the nodes, alternating HTTP and HTTPS. Pinned requests reach one web
server whichever node served them (the pin value is the same on every node), whatever the policy (an SpServer
cookie naming another back end, a URL hashed elsewhere); requests without the pin spread; the exit's answer deletes
the pin and requests spread again; a tampered pin counts as none; the pinned web server stopped: re-pinned elsewhere.
TAP, one line per case; root."""
import os
import re
import signal
import socket
import ssl

from dlbatest import array
from dlbatest.netns import ns_socket
from dlbatest.procs import run
from dlbatest.tap import Suite, check, wait_until
from dlbatest.topo import CLIENT_IP, NODES, VIP

suite = Suite("e2e-pins")
state = {}
PIN = ('pin = { entry = ["/banking/*"]; exit = ["/banking/logout"]; cookie = "SpPin"; max_age_s = 1800; };\n')
ROUNDS = 10


def setup():
    arr = array.bring_up(state, "dlba-e2e-pins-")
    with open(os.path.join(arr.rundir, "n1.conf")) as f:
        text = f.read()
    text, n1 = re.subn(r'(?m)^(\s*)(upgrade_protocols = \["websocket"\];\n)', r"\1\2\1" + PIN, text)
    text, n2 = re.subn(r"(?m)^(\s*)(hash_bound_load = [0-9.]+;[^\n]*\n)", r"\1\2\1" + PIN, text)
    check(n1 == 1 and n2 == 1, "conf/dlba.conf has no web or cache service to give a pin")
    array.push_config(state, text, "pins.conf")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(arr.ca())
    ctx.check_hostname = False
    state["ctx"] = ctx
    state["port"] = 42000
    state["https"] = False


def requests_per_node():
    arr = state["array"]
    return {n: arr.server_counters(n).get("requests", 0) for n in NODES}


def pin_counters():
    arr = state["array"]
    total = {}
    for n in NODES:
        for k, v in arr.server_counters(n).items():
            if k.startswith("pins_"):
                total[k] = total.get(k, 0) + v
    return total


def get(path, cookies=(), port=None):
    """GET on a new connection from a new client port, to VIP:80 and VIP:443 in turn (or VIP:`port`, plain):
    (web server, node, {cookie name: Set-Cookie value} for SpPin, https)."""
    if port is None:
        tls = state["https"]
        state["https"] = not tls
        port = 443 if tls else 80
    else:
        tls = False
    state["port"] += 1
    before = requests_per_node()
    sock = ns_socket(state["array"].ns("client"), socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((CLIENT_IP, state["port"]))
    sock.connect((VIP, port))
    s = state["ctx"].wrap_socket(sock) if tls else sock
    with s:
        cookie = f"Cookie: {'; '.join(cookies)}\r\n" if cookies else ""
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {VIP}\r\n{cookie}Connection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    after = requests_per_node()
    text = data.decode(errors="replace")
    head, _, body = text.partition("\r\n\r\n")
    pins = [line.split(":", 1)[1].strip() for line in head.split("\r\n")[1:]
            if line.lower().startswith("set-cookie:") and line.split(":", 1)[1].strip().startswith("SpPin=")]
    nodes = [n for n in NODES if after[n] > before[n]]
    m = re.match(r"web (\d) ", body)
    return (int(m.group(1)) if m else None), (nodes[0] if len(nodes) == 1 else None), pins, tls


def value_of(set_cookie):
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def pinned_rounds(pin, paths, port=None, extra=()):
    webs, nodes, refreshed = [], [], 0
    for p in paths:
        web, node, pins, tls = get(p, [f"SpPin={pin}", *extra], port)
        webs.append(web)
        nodes.append(node)
        want = f"SpPin={pin}; Path=/banking/; Max-Age=1800; HttpOnly" + ("; Secure" if tls else "")
        refreshed += 1 if pins == [want] else 0
    return webs, nodes, refreshed


@suite.case(f"HTTP and HTTPS in turn, a new connection each: {ROUNDS} pinned requests on one web server from at "
            "least two nodes, an SpServer cookie notwithstanding; control requests spread", timeout=90)
def pinned_across_nodes():
    before = pin_counters()
    web, _, pins, tls = get("/banking/start")
    check(web is not None, "no answer from a web server")
    check(len(pins) == 1 and pins[0].endswith("; Path=/banking/; Max-Age=1800; HttpOnly" + ("; Secure" if tls else "")),
          f"the entry's answer set {pins}")
    pin = value_of(pins[0])
    check(re.fullmatch(rf"{web}\.[0-9a-f]{{24}}", pin), f"pin value {pin!r} is not '<key>.<tag>' for web {web}")
    other = web % 3 + 1
    webs, nodes, refreshed = pinned_rounds(pin, [f"/banking/acct/{i}" for i in range(ROUNDS)],
                                           extra=[f"SpServer={other}", "a=1"])
    suite.diag(f"pinned to web {web}: web servers {webs}, nodes {nodes}")
    check(set(webs) == {web}, f"pinned requests went to {webs}, not all to web {web}")
    check(refreshed == ROUNDS, f"only {refreshed} of {ROUNDS} answers refreshed the pin as it was")
    check(len({n for n in nodes if n}) >= 2, f"the connections all landed on node(s) {set(nodes)}")
    # HTTP/2 (ALPN h2 on VIP:443): each stream is scheduled on its own, the pin holds there too.
    for i in range(3):
        cp = run(["curl", "-s", "--http2", "--cacert", state["array"].ca(), "-D", "-", "-H", f"Cookie: SpPin={pin}",
                  f"https://{VIP}/banking/h2/{i}", f"https://{VIP}/banking/h2/{i}b"],
                 ns=state["array"].ns("client"), timeout=15, check_rc=False)
        check(cp.stdout.startswith("HTTP/2 200"), f"curl --http2 answered {cp.stdout[:200]!r} {cp.stderr[-200:]!r}")
        check(cp.stdout.count(f"web {web} /banking/h2/{i}") == 2, f"h2 streams not on web {web}: {cp.stdout!r}")
        check(cp.stdout.count(f"set-cookie: SpPin={pin}; Path=/banking/; Max-Age=1800; HttpOnly; Secure") == 2,
              f"h2 answers did not refresh the pin: {cp.stdout!r}")
    control = [get(f"/banking/acct/{i}")[0] for i in range(ROUNDS)]
    suite.diag(f"without the pin: web servers {control}")
    check(len(set(control)) >= 2, f"{ROUNDS} unpinned requests all went to {control}")
    after = pin_counters()
    check(after.get("pins_followed", 0) - before.get("pins_followed", 0) >= ROUNDS,
          f"pins_followed moved {before} -> {after}")
    state["web"], state["pin"] = web, pin


@suite.case("the exit URI goes to the pinned web server and deletes the pin; then requests spread again",
            timeout=60)
def exit_clears():
    check("pin" in state, "no pin (previous case)")
    before = pin_counters()
    web, _, pins, tls = get("/banking/logout", [f"SpPin={state['pin']}"])
    check(web == state["web"], f"the exit went to web {web}, not the pinned web {state['web']}")
    check(pins == ["SpPin=; Path=/banking/; Max-Age=0; HttpOnly" + ("; Secure" if tls else "")],
          f"the exit's answer set {pins}")
    check(pin_counters().get("pins_cleared", 0) > before.get("pins_cleared", 0), "pins_cleared did not move")
    # The client dropped the cookie (Max-Age=0): its next requests are balanced again, each pinning anew.
    webs = [get(f"/banking/acct/{i}")[0] for i in range(ROUNDS)]
    suite.diag(f"after the exit: web servers {webs}")
    check(len(set(webs)) >= 2, f"{ROUNDS} requests after the exit all went to {webs}")


@suite.case("url_hash (VIP:8080): URLs that hash to different web servers all go to the pinned one", timeout=60)
def url_hash_pin_wins():
    paths = [f"/banking/u/{i}" for i in range(12)]
    hashed = [get(p, port=8080)[0] for p in paths]
    check(len(set(hashed)) >= 2, f"the URLs all hash to {hashed}")
    web, _, pins, _ = get("/banking/start", port=8080)
    check(len(pins) == 1, f"the entry's answer set {pins}")
    webs, nodes, refreshed = pinned_rounds(value_of(pins[0]), paths, port=8080)
    suite.diag(f"hashed {hashed}; pinned to web {web}: {webs}, nodes {nodes}")
    check(set(webs) == {web}, f"pinned requests went to {webs}, not all to web {web}")
    check(refreshed == len(paths), f"only {refreshed} answers refreshed the pin")


@suite.case("a tampered pin counts as none; the pinned web server stopped: re-pinned elsewhere (pins_broken)",
            timeout=60)
def tampered_and_broken():
    web, _, pins, _ = get("/banking/start", port=8080)
    pin = value_of(pins[0])
    before = pin_counters()
    tampered = pin[:-1] + ("0" if pin[-1] != "0" else "1")
    _, _, repinned, _ = get("/banking/x", [f"SpPin={tampered}"], port=8080)
    check(len(repinned) == 1 and value_of(repinned[0]) != tampered, f"a tampered pin was answered with {repinned}")
    check(pin_counters().get("pins_invalid", 0) > before.get("pins_invalid", 0), "pins_invalid did not move")
    arr = state["array"]
    with open(os.path.join(arr.rundir, f"web{web}", "nginx.pid")) as f:
        pid = int(f.read().strip())
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not os.path.exists(f"/proc/{pid}"), 10, 0.1, "the web server to stop")
    before = pin_counters()
    moved, _, pins, _ = get("/banking/x", [f"SpPin={pin}"], port=8080)
    check(moved not in (None, web), f"the request pinned to the stopped web {web} went to {moved}")
    check(len(pins) == 1 and re.fullmatch(rf"{moved}\.[0-9a-f]{{24}}", value_of(pins[0])),
          f"the answer re-pinned with {pins}")
    check(pin_counters().get("pins_broken", 0) > before.get("pins_broken", 0), "pins_broken did not move")
    webs, _, _ = pinned_rounds(value_of(pins[0]), [f"/banking/u/{i}" for i in range(4)], port=8080)
    check(set(webs) == {moved}, f"the new pin's requests went to {webs}, not web {moved}")


if __name__ == "__main__":
    array.main(suite, state, setup)
