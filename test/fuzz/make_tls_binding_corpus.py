#!/usr/bin/env python3
"""Writes the hand-made seeds of the tls_binding fuzz corpus (test/fuzz/corpus/tls_binding/seed-*): TLS-session
bindings as dlba_server/tls/session_binding.cpp seals them, under the fuzz target's two fixed ticket keys, valid and
broken. Layout: version 1 | key name (16) | L (1) | back-end key (L) | HMAC-SHA256(binding key, all before)[:16],
binding key = HMAC-SHA256(ticket key's HMAC key + AES key, "dlba tls_session binding v1")."""
import hashlib
import hmac
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def ticket_key(seed):
    name = bytes((seed + i) & 255 for i in range(16))
    mac = bytes((seed * 3 + i) & 255 for i in range(32))
    aes = bytes((seed * 7 + i) & 255 for i in range(32))
    return name, mac, aes


def seal(seed, key):
    name, mac, aes = ticket_key(seed)
    binding_key = hmac.new(mac + aes, b"dlba tls_session binding v1", hashlib.sha256).digest()
    body = bytes([1]) + name + bytes([len(key)]) + key
    return body + hmac.new(binding_key, body, hashlib.sha256).digest()[:16]


def flip(data, i):
    return data[:i] + bytes([data[i] ^ 1]) + data[i + 1:]


seeds = {
    "current-key": seal(2, b"web1"),
    "previous-key": seal(1, b"2"),
    "long-key": seal(2, b"k" * 64),
    "unknown-key": seal(3, b"web1"),
    "tampered-tag": flip(seal(2, b"web1"), 30),
    "tampered-key": flip(seal(2, b"web1"), 19),
    "version-2": b"\x02" + seal(2, b"web1")[1:],
    "truncated": seal(2, b"web1")[:-1],
    "trailing": seal(2, b"web1") + b"\0",
    "zero-length": bytes([1]) + ticket_key(2)[0] + b"\0" + b"\0" * 16,
    "empty": b"",
}
directory = os.path.join(HERE, "corpus", "tls_binding")
os.makedirs(directory, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(directory, "seed-" + name), "wb") as f:
        f.write(data)
