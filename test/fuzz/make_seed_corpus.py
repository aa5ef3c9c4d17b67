#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the fuzz corpora (test/fuzz/corpus/<target>/seed-*).

Inputs the fuzzer finds are added next to them under their hash names; rerunning this script only rewrites the seeds.
Request and response inputs start with one control byte (see each fuzz target): 0x00 = split into 1-byte pieces,
0x03 = 4-byte pieces, 0x40 = pause in every callback (requests) or clock at 0 (responses), 0x80 = small limits
(requests) or a HEAD request (responses).
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"


def post(framing, body=b""):
    return b"POST /f HTTP/1.1\r\nHost: a\r\n" + framing + b"\r\n" + body


REQUESTS = {
    "get": GET,
    "get-headers": b"GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8\r\nAccept: */*\r\n"
    b"Cookie: a=1; SpServer=web1\r\n\r\n",
    "pipelined-three": b"GET /a.html HTTP/1.1\r\nHost: a\r\n\r\nGET /b.gif HTTP/1.1\r\nHost: a\r\n\r\n"
    b"GET /c.gif HTTP/1.1\r\nHost: a\r\n\r\n",
    "close-then-more": b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" + GET,
    "http10-keepalive": b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n",
    "content-length": post(b"Content-Length: 5\r\n", b"hello") + GET,
    "chunked": post(b"Transfer-Encoding: chunked\r\n", b"5;a=b\r\nhello\r\n6;q=\"x;y\"\r\n world\r\n0\r\nT: 1\r\n\r\n") + GET,
    "chunked-gzip": post(b"Transfer-Encoding: gzip, chunked\r\n", b"1\r\nx\r\n0\r\n\r\n"),
    "expect-continue": post(b"Expect: 100-continue\r\nContent-Length: 2\r\n", b"ok"),
    "absolute-form": b"GET http://a.example:8080/x?y HTTP/1.1\r\nHost: a.example:8080\r\n\r\n",
    "options-star": b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    "leading-crlf": b"\r\n\r\n" + GET,
    # Smuggling shapes: each must be refused.
    "cl-and-te": post(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\nGET /x HTTP/1.1\r\n"),
    "te-and-cl": post(b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", b"0\r\n\r\n"),
    "duplicate-cl": post(b"Content-Length: 1\r\nContent-Length: 2\r\n", b"xy"),
    "cl-list": post(b"Content-Length: 1,1\r\n", b"x"),
    "cl-plus": post(b"Content-Length: +1\r\n", b"x"),
    "cl-negative": post(b"Content-Length: -1\r\n"),
    "cl-empty": post(b"Content-Length:\r\n"),
    "cl-overflow": post(b"Content-Length: 18446744073709551617\r\n"),
    "te-gzip-only": post(b"Transfer-Encoding: gzip\r\n", b"abc"),
    "te-chunked-gzip": post(b"Transfer-Encoding: chunked, gzip\r\n"),
    "te-unknown": post(b"Transfer-Encoding: xchunked\r\n"),
    "te-chunked-twice": post(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"),
    "te-http10": b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-vtab": post(b"Transfer-Encoding:\x0bchunked\r\n", b"0\r\n\r\n"),
    "space-before-colon": post(b"Transfer-Encoding : chunked\r\nContent-Length: 1\r\n", b"x"),
    "obs-fold": b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
    "obs-fold-te": post(b"Transfer-Encoding: gzip,\r\n chunked\r\n", b"0\r\n\r\n"),
    "bare-lf": b"GET / HTTP/1.1\nHost: a\n\n",
    "bare-lf-mixed": b"GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n",
    "bare-cr": b"GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n",
    "nul-in-value": b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n",
    "missing-host": b"GET / HTTP/1.1\r\n\r\n",
    "duplicate-host": b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "absolute-host-mismatch": b"GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n",
    "http2-version": b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
    "http09": b"GET /\r\n\r\n",
    "bad-method": b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
    "connect": b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
    "chunk-size-bad": post(b"Transfer-Encoding: chunked\r\n", b"0x5\r\nhello\r\n0\r\n\r\n"),
    "chunk-size-overflow": post(b"Transfer-Encoding: chunked\r\n", b"10000000000000001\r\nx\r\n0\r\n\r\n"),
    "chunk-bare-lf": post(b"Transfer-Encoding: chunked\r\n", b"1\nx\r\n0\r\n\r\n"),
    "chunk-data-too-long": post(b"Transfer-Encoding: chunked\r\n", b"1\r\nxy\r\n0\r\n\r\n"),
    "chunk-ext-long": post(b"Transfer-Encoding: chunked\r\n", b"1;a=" + b"b" * 40 + b"\r\nx\r\n0\r\n\r\n"),
    "trailer-obs-fold": post(b"Transfer-Encoding: chunked\r\n", b"0\r\nX: a\r\n b\r\n\r\n"),
    "long-target": b"GET /" + b"a" * 40 + b" HTTP/1.1\r\nHost: a\r\n\r\n",
    "many-headers": b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n",
    "big-body": post(b"Content-Length: 100\r\n", b"x" * 100),
}

OK = b"HTTP/1.1 200 OK\r\n"

RESPONSES = {
    "content-length": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\nX: y\r\n\r\n",
    "until-close": b"HTTP/1.1 200 OK\r\n\r\neverything until close",
    "http10": b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
    "continue-then-ok": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    "early-hints": b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    "no-content": b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
    "not-modified": b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
    "switching": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
    "cl-and-te": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "duplicate-cl": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "te-gzip": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nrawbytes",
    "bare-lf": b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    "obs-fold": b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",
    "space-before-colon": b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
    "no-reason": b"HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n",
    "nul": b"HTTP/1.1 200 OK\r\nX: \x00\r\n\r\n",
    "bad-status": b"HTTP/1.1 99 Nope\r\n\r\n",
    "set-cookie-session": b"HTTP/1.1 200 OK\r\nSet-Cookie: JSESSIONID=abc; Path=/shop; Domain=example.com; "
    b"Expires=Wed, 21 Oct 2037 07:28:00 GMT; Max-Age=3600; Secure; HttpOnly; SameSite=Strict\r\n"
    b"Content-Length: 0\r\n\r\n",
    "set-cookie-delete": b"HTTP/1.1 200 OK\r\nSet-Cookie: JSESSIONID=; Path=/; Max-Age=0\r\n"
    b"Set-Cookie: sid=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT\r\nContent-Length: 0\r\n\r\n",
    "set-cookie-several": b"HTTP/1.1 200 OK\r\nSet-Cookie: theme=dark\r\nSet-Cookie: JSESSIONID=1; Path=/a\r\n"
    b"Set-Cookie: garbage\r\nSet-Cookie: JSESSIONID=2; path=/b; samesite=None; secure\r\nContent-Length: 0\r\n\r\n",
    "set-cookie-malformed": b"HTTP/1.1 200 OK\r\nSet-Cookie: =x; Path=/\r\nSet-Cookie: JSESSIONID=a\x01b\r\n"
    b"Set-Cookie: sid=1; Max-Age=abc; Expires=tomorrow; Domain=\r\nContent-Length: 0\r\n\r\n",
    "set-cookie-dates": b"HTTP/1.1 200 OK\r\nSet-Cookie: sid=1; Expires=Sunday, 06-Nov-94 08:49:37 GMT\r\n"
    b"Set-Cookie: sid=2; Expires=Sun Nov  6 08:49:37 1994\r\nSet-Cookie: sid=3; Max-Age=-5\r\n\r\n",
    # Shapes a lenient client could frame differently (test/server/backend_strict_test.py has one case per class).
    "cl-equal-duplicate": OK + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\nok",
    "cl-list": OK + b"Content-Length: 2, 2\r\n\r\nok",
    "cl-plus": OK + b"Content-Length: +2\r\n\r\nok",
    "cl-overflow": OK + b"Content-Length: 18446744073709551618\r\n\r\nok",
    "te-and-cl": OK + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
    "te-gzip-chunked": OK + b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
    "te-chunked-gzip": OK + b"Transfer-Encoding: chunked, gzip\r\n\r\nrawbytes",
    "te-chunked-twice": OK + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-unknown": OK + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    "te-parameter": OK + b"Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n",
    "te-empty-element": OK + b"Transfer-Encoding: gzip,,chunked\r\n\r\n0\r\n\r\n",
    "te-vtab": OK + b"Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n",
    "te-http10": b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "head-cl-and-te": OK + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    "head-with-body": OK + b"Content-Length: 5\r\n\r\nhello",
    "bytes-after-end": OK + b"Content-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
    "chunked-then-more": OK + b"Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    "no-content-with-body": b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello",
    "not-modified-with-body": b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello",
    "continue-with-body": b"HTTP/1.1 100 Continue\r\nContent-Length: 3\r\n\r\nabc" + OK + b"Content-Length: 0\r\n\r\n",
    "switching-no-upgrade": b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
    "status-http2": b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
    "status-four-digits": b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
    "status-two-spaces": b"HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n",
    "status-ctl-reason": b"HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n",
    "space-before-colon-te": OK + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    "space-before-colon-other": OK + b"Server : x\r\nContent-Length: 0\r\n\r\n",
    "obs-fold-cl": OK + b"Content-Length: 2\r\n 2\r\n\r\nok",
    "obs-fold-te": OK + b"Transfer-Encoding: gzip,\r\n chunked\r\n\r\n0\r\n\r\n",
    "bare-cr": OK + b"X: a\rb\r\nContent-Length: 0\r\n\r\n",
    "ctl-in-value": OK + b"X: a\x01b\r\nContent-Length: 0\r\n\r\n",
    "del-in-value": OK + b"X: a\x7fb\r\nContent-Length: 0\r\n\r\n",
    "empty-name": OK + b": z\r\nContent-Length: 0\r\n\r\n",
    "name-with-space": OK + b"X Y: z\r\nContent-Length: 0\r\n\r\n",
    "connection-names-cl": OK + b"Connection: Content-Length\r\nContent-Length: 2\r\n\r\nok",
    "chunk-size-overflow": OK + b"Transfer-Encoding: chunked\r\n\r\n10000000000000001\r\nx\r\n0\r\n\r\n",
    "chunk-data-too-long": OK + b"Transfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n",
}

COOKIES = {
    "single": b"SpServer\nSpServer=web1",
    "among-others": b"SpServer\na=1; SpServer=web2; b=2",
    "two-spservers": b"SpServer\nSpServer=bogus; SpServer=web1",
    "tampered": b"SpServer\nSpServer=web1x",
    "quoted": b"SpServer\nSpServer=\"web1\"",
    "empty-value": b"SpServer\nSpServer=; a=1",
    "no-equals": b"SpServer\ngarbage; SpServer=web1;;; =x; y",
    "whitespace": b"SpServer\n  SpServer = web2 ;\ta=1\t",
    "empty-name": b"\n=a; =b",
    "control-chars": b"SpServer\nSpServer=\x00web1; a=\x7f",
    "query-sid": b"sid\n/cart?x=1&sid=ABC&y=2#frag",
    "query-empty-sid": b"sid\n/cart?sid=&sid=DEF",
    "path-jsessionid": b"jsessionid\n/app/page.jsp;v=2;jsessionid=ABC123?x=1",
    "absolute-jsessionid": b"jsessionid\nhttp://h.example/a;jsessionid=Q/b",
    "date-rfc1123": b"x\nWed, 21 Oct 2015 07:28:00 GMT",
    "date-rfc850": b"x\nSunday, 06-Nov-94 08:49:37 GMT",
    "date-asctime": b"x\nSun Nov  6 08:49:37 1994",
    "date-invalid": b"x\nWed, 32 Foo 99999 25:61:61",
    "set-cookie-like": b"SpServer\nJSESSIONID=abc; Path=/; Max-Age=0; Secure",
    "set-cookie-all-attributes": b"x\nsid=1; path=/a; DOMAIN=.e.com; Expires=Wed, 21 Oct 2037 07:28:00 GMT; "
    b"Max-Age=60; secure; httponly; SameSite=Lax; Path=/b",
    "custom-name": b"Backend\nBackend=web2; SpServer=web1",
    "name-with-space": b"Sp Server\nSp Server=web1",
    "only-separators": b"SpServer\n;;; ; ;",
    "equals-in-value": b"t\nt=a=b=c; u==",
    "utf8": b"SpServer\nSpServer=w\xc3\xa9b1; caf\xc3\xa9=1",
    "long-pairs": b"SpServer\n" + b"; ".join(b"c%d=%d" % (i, i) for i in range(40)) + b"; SpServer=web2",
    "query-fragment-first": b"sid\n/a#x?sid=1",
    "query-only": b"sid\n?sid=Z",
    "path-many-params": b"jsessionid\n/a;x;y=;jsessionid=;jsessionid=OK;z=1/b;jsessionid=LATER",
    "date-two-digit-years": b"x\n01 Jan 69 00:00:00; 01 Jan 70 00:00:00",
    "date-leap-day": b"x\nThu, 29 Feb 2024 23:59:59 GMT",
}


def write(target, seeds, control_bytes):
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    for name, data in seeds.items():
        for control in control_bytes:
            suffix = "" if control is None else "-%02x" % control
            with open(os.path.join(directory, "seed-" + name + suffix), "wb") as f:
                f.write((b"" if control is None else bytes([control])) + data)


write("request_parser", REQUESTS, [0x03])
for name in ["pipelined-three", "chunked", "content-length", "cl-and-te", "long-target", "many-headers", "big-body",
             "chunk-ext-long", "close-then-more"]:
    write("request_parser", {name: REQUESTS[name]}, [0x00, 0x40, 0x80])
write("response", RESPONSES, [0x03])
for name in ["chunked", "continue-then-ok", "set-cookie-delete", "content-length", "head-cl-and-te",
             "head-with-body", "bytes-after-end", "te-gzip-chunked"]:
    write("response", {name: RESPONSES[name]}, [0x00, 0x40, 0x80])
write("cookie", COOKIES, [None])
