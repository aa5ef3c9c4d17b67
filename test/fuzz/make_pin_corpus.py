#!/usr/bin/env python3
"""Writes the hand-made seeds of the pin fuzz corpus (test/fuzz/corpus/pin/seed-*): a target line, then a Cookie
header value, with pin values as dlba_server/policy/pin.cpp makes them for the fuzz target's table (service "bank",
back ends web1, web.2, 3, pin.secret = 32 bytes of 0x11): "<key>.<hex of HMAC-SHA256(secret, 'dlba pin v1' NUL
service NUL key)[:12]>", valid and broken."""
import hashlib
import hmac
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = bytes([0x11]) * 32


def value(key, service=b"bank", secret=SECRET):
    tag = hmac.new(secret, b"dlba pin v1\0" + service + b"\0" + key, hashlib.sha256).digest()[:12]
    return key + b"." + tag.hex().encode()


def main():
    out = os.path.join(HERE, "corpus", "pin")
    os.makedirs(out, exist_ok=True)
    v1, v2, v3 = value(b"web1"), value(b"web.2"), value(b"3")
    flipped = v1[:-1] + (b"0" if v1[-1:] != b"0" else b"1")
    seeds = {
        "valid-web1": b"/banking/acct?id=1\nSpPin=" + v1,
        "valid-dotted-key": b"/banking/x\na=1; SpPin=" + v2 + b"; b=2",
        "valid-after-junk": b"/banking/x\nSpPin=junk; SpServer=web1; SpPin=" + v3,
        "exit": b"/banking/logout?bye=1\nSpPin=" + v1,
        "absolute-form": b"http://bank.example/banking/y#f\nSpPin=" + v1,
        "tampered-tag": b"/banking/x\nSpPin=" + flipped,
        "swapped-key": b"/banking/x\nSpPin=web1" + v2[v2.rfind(b"."):],
        "other-service": b"/loans/start\nSpPin=" + value(b"web1", b"loans"),
        "other-secret": b"/banking/x\nSpPin=" + value(b"web1", secret=bytes(32)),
        "short": b"/banking/x\nSpPin=web1.",
        "quoted": b"/banking/x\nSpPin=\"" + v1 + b"\"",
        "spaces": b"/banking/x\n  SpPin  =  " + v1 + b" ;; x",
        "no-header": b"/banking/",
        "star": b"*\nSpPin=" + v1,
        "bare-value": b"/x\n" + v1,
    }
    for name, data in seeds.items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
