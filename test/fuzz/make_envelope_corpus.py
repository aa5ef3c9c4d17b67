#!/usr/bin/env python3
"""Writes the seed corpus of envelope_fuzz.cpp: envelopes sealed with the fuzz target's two keys (every kind, the
operator and a node as sender), one with an unknown key, and a few broken ones. Run from the repository root."""
import hashlib
import hmac
import os
import struct

OUT = "test/fuzz/corpus/envelope"


def key(seed):
    return bytes((seed + i * 7) & 0xFF for i in range(32))


def seal(kind, sender, counter, nonce, payload, k):
    head = struct.pack("!IBBHQQII", 0x444C4241, 1, kind, sender, counter, nonce, len(payload), 0)
    return head + payload + hmac.new(k, head + payload, hashlib.sha256).digest()


def main():
    os.makedirs(OUT, exist_ok=True)
    t = 1_764_640_000_000_000
    beat = b"DLBH\x00\x01\x00\x02" + bytes(32)
    seeds = {
        "heartbeat": seal(1, 1, t, 0, beat, key(1)),
        "sync-request": seal(2, 1, t, 77, b"PULL 1234abcd 0\n", key(1)),
        "sync-answer-old-key": seal(3, 1, t, 77, b"DLBS\x00\x01\x00\x00" + bytes(32), key(2)),
        "sweep-answer-empty": seal(5, 1, t, 5, b"", key(1)),
        "config-admin": seal(6, 0, t, 9, b"ADMIN node 2 disable\n", key(1)),
        "config-prepare": seal(6, 0, t, 9, b"PREPARE abc 5\nhello", key(1)),
        "unknown-key": seal(6, 0, t, 9, b"ADMIN backend 2 disable\n", key(9)),
        "bad-kind": seal(9, 1, t, 0, b"x", key(1)),
        "truncated": seal(1, 1, t, 0, beat, key(1))[:-5],
        "unsigned-line": b"ADMIN node 2 disable\n",
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
