"""CDN URL rewriting ("speederizing", seed 003): a ~5 MB generated HTML page served by a real nginx, read through
dlba-server with small reads (recv(512)). Every src/href URL on the site's host whose path matches the service's
patterns comes out as //cdn.example.net/<path>, everything else byte-identical: the proxy's answer is compared with
nginx's original passed through a reference rewrite written here in Python. The answer is chunked (HTTP/1.1) or
close-delimited (HTTP/1.0), without Content-Length, with the ETag weakened; a gzip answer and a non-HTML answer pass
through untouched; the cdn counters move.
Usage: cdn_rewrite_test.py DLBA_SERVER DLBACTL (TAP on stdout)."""
import gzip
import os
import random
import re
import socket
import sys

from dlbatest.http_client import free_port, free_ports
from dlbatest.nginx import Nginx
from dlbatest.procs import TempDir
from dlbatest.server import ARRAY, DlbaServer
from dlbatest.tap import Suite, check, main

SERVER_BIN, DLBACTL = sys.argv[1], sys.argv[2]
suite = Suite("server/cdn_rewrite", setup_timeout=120)
env = {}

SITE = "www.site.test"
CDN = "cdn.example.net"
PATTERNS = [re.compile(r"^/static/"), re.compile(r"\.(png|jpg|css|js)$")]
LOCATIONS = """location /site/ {
      types { text/html html; text/css css; }
      etag on;
      gzip on; gzip_min_length 1; gzip_types text/css; gzip_comp_level 1;
    }"""


# ---- the page and the reference rewrite ----

def make_page(size, seed=12):
    """HTML with many src/href URLs of every shape the rewriter distinguishes, scripts and comments with URLs that
    must stay, and text; about `size` bytes."""
    rnd = random.Random(seed)
    urls = ["/static/img/{n}.gif", "/img/{n}.png", "/pages/{n}.html", "http://www.site.test/static/{n}.txt",
            "https://WWW.Site.Test:8443/css/{n}.css", "//www.site.test/js/{n}.js", "//other.test/static/{n}.png",
            "http://other.test/{n}.jpg", "rel/{n}.png", "../up/{n}.js", "./static/{n}", "{n}.html",
            "/a/../static/{n}.jpg", "/img/{n}.png?v={n}#x", "mailto:a{n}@b.png", "#top{n}.png", "?q={n}.js",
            "/about/{n}"]
    parts = ["<!DOCTYPE html>\n<html><head><title>page &amp; <img src=/static/t.png></title>\n"]
    total = 0
    n = 0
    while total < size:
        n += 1
        u = rnd.choice(urls).format(n=n)
        shape = rnd.randrange(10)
        if shape == 0:
            s = f'<img src="{u}" alt="picture {n}">\n'
        elif shape == 1:
            s = f"<a class=x HREF='{u}'>link {n}</a>\n"
        elif shape == 2 and not any(c in u for c in "'\"> "):
            s = f"<link rel=stylesheet href={u}>\n"
        elif shape == 3:
            s = f'<script>var u = "<img src=\\"{u}\\">"; if (a<b) x();</script>\n'
        elif shape == 4:
            s = f'<!-- <img src="{u}"> old -->\n'
        elif shape == 5:
            s = f'<p data-src="{u}" title="src={u}">text {n} with a < b</p>\n'
        elif shape == 6:
            s = f'<style>.c{n} {{ background: url({u}) }}</style>\n'
        elif shape == 7:
            s = f'<script src="{u}"></script>\n'
        else:
            s = f'<div><IMG\n  SRC = "{u}" ><a href="{u}">x</a></div>\n'
        parts.append(s)
        total += len(s)
    parts.append("</body></html>\n")
    return "".join(parts).encode()


def remove_dot_segments(path):
    out = []
    segs = path.split("/")[1:]
    for i, seg in enumerate(segs):
        last = i == len(segs) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if out:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    return "/" + "/".join(out)


def rewrite_url(v, base_dir):
    """The rewritten value, or None to leave it."""
    if not v or v[0] in "?#" or any(ord(c) <= 0x20 or c in "\\\x7f" for c in v):
        return None
    relative = False
    m = re.match(r"(?i)^(?:(https?):)?//([^/?#]*)(.*)$", v)
    if m:
        authority = m.group(2)
        if "@" in authority or not authority:
            return None
        if authority.split(":")[0].lower() != SITE or not m.group(3).startswith("/"):
            return None
        rest = m.group(3)
    elif re.match(r"^[^/?#]*:", v):
        return None
    else:
        rest = v
        relative = not v.startswith("/")
    q = re.search(r"[?#]", rest)
    path, tail = (rest[:q.start()], rest[q.start():]) if q else (rest, "")
    if not path:
        return None
    path = remove_dot_segments(base_dir + path if relative else path)
    if not any(p.search(path) for p in PATTERNS):
        return None
    return "//" + CDN + path + tail


RAW = re.compile(r"(?is)(<script\b.*?</script>|<style\b.*?</style>|<title\b.*?</title>|<!--.*?-->)")
TAG = re.compile(r"<[A-Za-z][^>]*>")


def rewrite_tag(t, base_dir, count):
    """One start tag "<name attr=value ...>" with its src/href values rewritten."""
    i = 1
    while i < len(t) and t[i] not in " \t\n\r\f/>":
        i += 1
    out = [t[:i]]
    while i < len(t) - 1:
        j = i
        while j < len(t) - 1 and t[j] in " \t\n\r\f/":
            j += 1
        k = j
        while k < len(t) - 1 and t[k] not in " \t\n\r\f/=>":
            k += 1
        name = t[j:k].lower()
        m = re.match(r"""\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]*))""", t[k:])
        if not m:
            out.append(t[i:k])
            i = k if k > i else i + 1
            continue
        raw = next(g for g in m.groups()[1:] if g is not None)
        new = rewrite_url(raw, base_dir) if name in ("src", "href") else None
        if new is None:
            out.append(t[i:k + m.end()])
        else:
            count[0] += 1
            q = m.group(1)[0] if m.group(1)[:1] in ("'", '"') else ""
            out.append(t[i:k] + t[k:k + m.start(1)] + q + new + q)
        i = k + m.end()
    out.append(t[i:])
    return "".join(out)


def reference(page, base_dir="/site/"):
    """The reference rewrite of the generated page (it uses only the constructs above): returns (bytes, urls)."""
    text = page.decode()
    count = [0]

    def tag(m):
        return rewrite_tag(m.group(0), base_dir, count)

    out = []
    pos = 0
    for r in RAW.finditer(text):
        out.append(TAG.sub(tag, text[pos:r.start()]))
        block = r.group(0)
        if block.startswith("<!--"):
            out.append(block)
        else:
            opener = block[:block.index(">") + 1]
            out.append(TAG.sub(tag, opener) + block[len(opener):])
        pos = r.end()
    out.append(TAG.sub(tag, text[pos:]))
    return "".join(out).encode(), count[0]


# ---- the client ----

def raw_get(path, headers="", version="1.1", port=None):
    """One request on its own connection, read with recv(512) until the proxy closes: (head, body bytes as sent)."""
    port = port or env["port"]
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(f"GET {path} HTTP/{version}\r\nHost: {SITE}\r\nConnection: close\r\n{headers}\r\n".encode())
        data = bytearray()
        while True:
            b = s.recv(512)
            if not b:
                break
            data += b
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


def header(head, name):
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def dechunk(body):
    out = bytearray()
    i = 0
    while True:
        j = body.index(b"\r\n", i)
        size = int(body[i:j].split(b";")[0], 16)
        i = j + 2
        if size == 0:
            check(body[i:] == b"\r\n", f"after the last chunk: {body[i:i + 40]!r}")
            return bytes(out)
        out += body[i:i + size]
        check(body[i + size:i + size + 2] == b"\r\n", "chunk data ends with CRLF")
        i += size + 2


def first_difference(a, b):
    for i in range(min(len(a), len(b))):
        if a[i] != b[i]:
            return f"at byte {i}: got {a[max(0, i - 60):i + 60]!r}\n  expected {b[max(0, i - 60):i + 60]!r}"
    return f"lengths {len(a)} and {len(b)}"


def counters():
    return env["server"].counters()


# ---- setup ----

def setup():
    root = TempDir("dlba-cdn-")
    env["root"] = root
    r = root.path
    n = Nginx(r, 1, "127.0.0.61", free_port("127.0.0.61"), extra_locations=LOCATIONS)
    env["nginx"] = n
    os.makedirs(os.path.join(n.www, "site"), exist_ok=True)
    page = make_page(5 << 20)
    env["page"] = page
    for name in ("page.html", "page.css"):
        with open(os.path.join(n.www, "site", name), "wb") as f:
            f.write(page)
    n.start()
    env["expected"], env["expected_urls"] = reference(page)
    port = free_ports(2)
    env["port"] = port
    conf = ARRAY + f"""backends = ( {{ key = "web1"; address = "{n.address}"; port = {n.port}; }} );
services = (
  {{ name = "web"; backends = ["web1"];
     cdn = {{ host = "{CDN}"; match = ["^/static/", "\\\\.(png|jpg|css|js)$"]; }}; }},
  {{ name = "plain"; backends = ["web1"]; }}
);
server = {{
  workers = 2;
  listeners = (
    {{ address = "127.0.0.1"; port = {port}; tls = false; service = "web"; }},
    {{ address = "127.0.0.1"; port = {port + 1}; tls = false; service = "plain"; }}
  );
}};
"""
    env["server"] = DlbaServer(SERVER_BIN, r, "cdn", conf).start(wait_for=[("127.0.0.1", port), ("127.0.0.1", port + 1)])


def teardown():
    if "server" in env:
        env["server"].stop()
    if "nginx" in env:
        env["nginx"].stop()
    if "root" in env:
        env["root"].remove()


suite.diag_hooks.append(lambda: env["server"].log_text() if "server" in env else "")


# ---- cases ----

@suite.case("the reference rewrite changes many URLs and leaves many alone (the test page is a real test)")
def reference_is_meaningful():
    page, expected, urls = env["page"], env["expected"], env["expected_urls"]
    check(len(page) >= 5 << 20, f"page of {len(page)} bytes")
    check(urls > 20000, f"{urls} URLs to rewrite")
    check(expected.count(b"//" + CDN.encode()) == urls, "every rewritten URL names the CDN once")
    check(page.count(b"/static/") > 2 * expected.count(b"//" + CDN.encode() + b"/static/"),
          "many /static/ URLs stay (scripts, comments, other hosts, other attributes)")


@suite.case("HTTP/1.1, read 512 bytes at a time: chunked, no Content-Length, weak ETag, body = reference rewrite")
def rewritten_chunked():
    before = counters()
    head, raw = raw_get("/site/page.html")
    check(head.startswith("HTTP/1.1 200"), head)
    check((header(head, "Transfer-Encoding") or "").lower() == "chunked", head)
    check(header(head, "Content-Length") is None, head)
    _, direct = raw_get("/site/page.html", port=env["port"] + 1)  # the plain service: nginx's own ETag
    etag = header(head, "ETag") or ""
    check(etag.startswith('W/"'), f"ETag {etag}")
    body = dechunk(raw)
    check(direct == env["page"], "the plain service passes nginx's page as it is")
    check(body == env["expected"], "rewritten body: " + first_difference(body, env["expected"]))
    after = counters()
    check(after["cdn_rewritten"] == before["cdn_rewritten"] + 1, f"cdn_rewritten {before} -> {after}")
    check(after["cdn_urls"] - before["cdn_urls"] == env["expected_urls"],
          f"cdn_urls moved by {after['cdn_urls'] - before['cdn_urls']}, expected {env['expected_urls']}")


@suite.case("HTTP/1.0: close-delimited, no Content-Length, same body")
def rewritten_close():
    head, body = raw_get("/site/page.html", version="1.0")
    check(head.startswith("HTTP/1.1 200"), head)
    check(header(head, "Transfer-Encoding") is None and header(head, "Content-Length") is None, head)
    check((header(head, "Connection") or "").lower() == "close", head)
    check(body == env["expected"], "rewritten body: " + first_difference(body, env["expected"]))


@suite.case("keep-alive: the next request on the connection after a rewritten answer is served")
def keep_alive_after_rewrite():
    with socket.create_connection(("127.0.0.1", env["port"]), timeout=20) as s:
        s.sendall(f"GET /site/page.html HTTP/1.1\r\nHost: {SITE}\r\n\r\n"
                  f"GET /x HTTP/1.1\r\nHost: {SITE}\r\nConnection: close\r\n\r\n".encode())
        data = bytearray()
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    data = bytes(data)
    head, _, rest = data.partition(b"\r\n\r\n")
    end = rest.index(b"\r\n0\r\n\r\n") + 7
    check(dechunk(rest[:end]) == env["expected"], "first answer rewritten")
    check(rest[end:].startswith(b"HTTP/1.1 200") and rest[end:].endswith(b"backend 1\n"), repr(rest[end:end + 200]))


@suite.case("a gzip answer passes through untouched (counted as passed)")
def gzip_untouched():
    before = counters()
    head, body = raw_get("/site/page.html", headers="Accept-Encoding: gzip\r\n")
    check((header(head, "Content-Encoding") or "") == "gzip", head)
    _, direct = raw_get("/site/page.html", headers="Accept-Encoding: gzip\r\n", port=env["port"] + 1)
    check(body == direct, "the same bytes as through the plain service")
    plain = gzip.decompress(dechunk(body) if (header(head, "Transfer-Encoding") or "").lower() == "chunked" else body)
    check(plain == env["page"], "the original page inside")
    after = counters()
    check(after["cdn_passed"] == before["cdn_passed"] + 1 and after["cdn_rewritten"] == before["cdn_rewritten"],
          f"{before} -> {after}")


@suite.case("a non-HTML answer (text/css, same bytes) passes through untouched, Content-Length kept")
def non_html_untouched():
    before = counters()
    head, body = raw_get("/site/page.css")
    check((header(head, "Content-Type") or "").startswith("text/css"), head)
    check(header(head, "Content-Length") == str(len(env["page"])), head)
    check(body == env["page"], "byte-identical: " + first_difference(body, env["page"]))
    after = counters()
    check(after["cdn_passed"] == before["cdn_passed"] + 1, f"{before} -> {after}")


@suite.case("a service without cdn counts nothing")
def plain_service_counts_nothing():
    before = counters()
    raw_get("/site/page.html", port=env["port"] + 1)
    after = counters()
    check(after["cdn_passed"] == before["cdn_passed"] and after["cdn_rewritten"] == before["cdn_rewritten"],
          f"{before} -> {after}")


if __name__ == "__main__":
    main(suite, setup, teardown)
