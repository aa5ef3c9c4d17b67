#!/usr/bin/python3
"""End to end with a real browser (issue 5): Debian's Chromium, headless, in the client namespace, logs in over
HTTP through the VIP, then loads pages over HTTP and over HTTPS (trusting the test CA through its NSS database, so
the certificate chain and the IP SAN are really verified). One browser process and one profile: its cookie jar
(JSESSIONID from the back end, SpServer injected by the DLBA server) goes with every load, and every load after
the login must be answered by the same back end ("web N <path>"), whichever array node took the connection.
With the argument `h2` (meson's e2e/browser_h2, issue 14) the login itself goes over HTTPS and h2, so the
SpServer cookie is injected into an h2 answer, and the pages then go h2 -> HTTP/1.1 -> h2: one back end by cookie
across both protocols.
TAP, one line per case; root.
"""
import re
import sys

from dlbatest import array
from dlbatest.chromium import Chromium
from dlbatest.tap import Suite, check
from dlbatest.topo import NODES, VIP

H2_FIRST = sys.argv[1:] == ["h2"]
suite = Suite("e2e-browser_h2" if H2_FIRST else "e2e-browser")
state = {}
PAGES = ("/index.html", "/a.html", "/b.html", "/account")


def web_of(text):
    m = re.match(r"web ([123])\b", text or "")
    return int(m.group(1)) if m else None


def nodes_served(before, after):
    """{node: requests} that each array node's DLBA server handled between two counter snapshots."""
    return {n: after[n]["requests"] - before[n]["requests"] for n in NODES
            if after[n]["requests"] != before[n]["requests"]}


def load(url):
    arr, browser = state["array"], state["browser"]
    before = arr.all_server_counters()
    page = browser.load(url)
    page["nodes"] = nodes_served(before, arr.all_server_counters())
    page["web"] = web_of(page["text"])
    Suite.diag(f"{url}: {page['status']} {page['text'].strip()!r} via {page['remote']} {page['protocol']} "
               f"{page['security']}{' ' + str(page['tls']) + ' ' + str(page['cipher']) if page['tls'] else ''}; "
               f"array node(s) {page['nodes']}")
    check(page["status"] == 200, f"{url}: status {page['status']}")
    check(page["web"] is not None, f"{url}: the page is not a back end's answer: {page['text']!r}")
    return page


@suite.case("chromium logs in over HTTPS and h2: the back end's JSESSIONID and the SpServer injected into the h2 "
            "answer are in its cookie jar" if H2_FIRST else
            "chromium logs in over HTTP: the back end's JSESSIONID and the injected SpServer are in its cookie jar")
def case_login():
    browser = state["browser"]
    Suite.diag(f"browser: {browser.version}")
    if H2_FIRST:
        page = load(f"https://{VIP}/login")
        check(page["protocol"] == "h2" and page["security"] == "secure" and page["remote"].startswith(VIP),
              f"login page not over h2 with a verified certificate: {page}")
    else:
        page = load(f"http://{VIP}/login")
        check(page["security"] == "insecure" and page["remote"].startswith(VIP), f"login page: {page}")
    cookies = {c["name"]: c for c in browser.cookies() if c.get("domain") == VIP}
    Suite.diag("cookies: " + ", ".join(f"{c['name']}={c['value']} (path {c['path']}, httpOnly {c['httpOnly']}, "
                                       f"sameSite {c.get('sameSite')})" for c in cookies.values()))
    check("JSESSIONID" in cookies, f"no JSESSIONID cookie after /login: {list(cookies)}")
    check("SpServer" in cookies, f"no SpServer cookie injected beside JSESSIONID: {list(cookies)}")
    # conf/dlba.conf: back end key "N" is web N (10.77.0.3N).
    check(cookies["SpServer"]["value"] == str(page["web"]),
          f"SpServer={cookies['SpServer']['value']} but the login was answered by web {page['web']}")
    check(cookies["SpServer"]["path"] == cookies["JSESSIONID"]["path"]
          and cookies["SpServer"]["httpOnly"] == cookies["JSESSIONID"]["httpOnly"],
          "SpServer does not carry JSESSIONID's attributes")
    state["web"] = page["web"]
    state["nodes"] = dict(page["nodes"])


def pages_stay(scheme):
    check("web" in state, "no login (the previous case failed)")
    seen = []
    for p in PAGES:
        page = load(f"{scheme}://{VIP}{p}")
        check(page["text"].strip() == f"web {page['web']} {p}", f"{p}: unexpected page {page['text']!r}")
        seen.append(page)
        for n, k in page["nodes"].items():
            state["nodes"][n] = state["nodes"].get(n, 0) + k
    webs = [pg["web"] for pg in seen]
    check(all(w == state["web"] for w in webs),
          f"the session moved: login on web {state['web']}, {scheme} loads answered by {webs}")
    return seen


@suite.case("four pages over HTTP: every one answered by the login's back end")
def case_http():
    pages_stay("http")


@suite.case("four pages over HTTPS (test CA trusted, certificate verified), over h2 (DevTools says so): still the "
            "login's back end")
def case_https():
    seen = pages_stay("https")
    for page in seen:
        check(page["security"] == "secure", f"{page['url']}: security state {page['security']} (expected secure: "
                                            "the test CA is in the browser's NSS database)")
        check(page["tls"] in ("TLS 1.3", "TLS 1.2"), f"{page['url']}: TLS {page['tls']}")
        check(VIP in (page["san"] or []), f"{page['url']}: certificate SANs {page['san']}")
        # The TLS listener offers h2 by ALPN (issue 14): the browser takes it, and persistence holds across h1 and h2.
        check(page["protocol"] == "h2", f"{page['url']}: protocol {page['protocol']} (expected h2)")
    Suite.diag(f"array nodes that served the browser (requests, favicons included): {state['nodes']}")


@suite.case("back to HTTP after HTTPS: still the login's back end (a cookie-less browser context for contrast)")
def case_back_and_control():
    browser = state["browser"]
    page = load(f"http://{VIP}/after-https")
    check(page["web"] == state["web"], f"back on HTTP the session moved: web {page['web']}, login web {state['web']}")
    # Control: the same pages from a cookie-less context (its own cookie jar) are scheduled per request by the
    # fallback policy. Informational only: least_conn may pick the same back end by chance.
    ctx = browser.send("Target.createBrowserContext")["browserContextId"]
    session = browser.new_tab(ctx)
    webs = [web_of(browser.load(f"http://{VIP}/control/{i}", session=session)["text"]) for i in range(6)]
    browser.send("Target.disposeBrowserContext", {"browserContextId": ctx})
    Suite.diag(f"cookie-less context: six loads answered by back ends {webs} (least_conn fallback; not asserted)")


def setup():
    arr = array.bring_up(state, "dlba-e2e-chromium-", [(Chromium.BINARY, "chromium"), ("certutil", "libnss3-tools")])
    state["browser"] = Chromium(arr.ns("client"), state["workdir"], ca_pem=arr.ca())


def diagnostics():
    out = []
    if state.get("browser"):
        out.append("--- chromium log (D-Bus noise removed)")
        out.append(state["browser"].tail())
    if state.get("array"):
        out.append(state["array"].logs_tail(4))
    return "\n".join(out)


if __name__ == "__main__":
    array.main(suite, state, setup, diagnostics)
