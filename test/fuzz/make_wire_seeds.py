#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the wire-format fuzz corpora (test/fuzz/corpus/<target>/seed-*): heartbeat,
bucket_sync, sync_apply, control_request, push_request, config, classify, forwarder. The input layout of each is
described at the top of its <target>_fuzz.cpp. Inputs the fuzzer keeps (scripts/fuzz merges them in) sit next to
the seeds under their hash names; rerunning this script only rewrites the seeds.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def write(target, seeds):
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(directory, "seed-" + name), "wb") as f:
            f.write(data)


# ---- heartbeat: magic "DLBH" | format u16 = 2 | node u16 | term u64 | table_version u64 | config u64 | flags u8
#      | load u8 (0..100, 255 not known) | pad[6]
def beat(node=1, term=1, version=0, config=0, flags=0, magic=b"DLBH", fmt=2, load=255, pad=b"\0" * 6):
    return magic + struct.pack(">HHQQQBB", fmt, node, term, version, config, flags, load) + pad


write("heartbeat", {
    "standby": beat(2, 3, 10, 0x1234, 2, load=37),
    "active": beat(1, 7, 99, 0xfeedface, 3, load=0),
    "yielded": beat(255, 2 ** 64 - 1, 2 ** 64 - 1, 2 ** 64 - 1, 7, load=100),
    "node-0": beat(0),
    "node-256": beat(256),
    "bad-flags": beat(1, flags=8),
    "bad-load": beat(1, load=101),
    "pad-set": beat(1, pad=b"\0\0\x01\0\0\0"),
    "bad-magic": beat(magic=b"DLBX"),
    "format-1": beat(fmt=1, load=0),
    "format-2": beat(fmt=2),
    "format-3": beat(fmt=3),
    "short": beat()[:39],
    "long": beat() + b"\0",
    "empty": b"",
})

# ---- bucket_sync: header "DLBS" | format u16 | kind u8 | reserved u8 | table_size u32 | fingerprint u64 |
#      from u64 | to u64 | count u32, then 7-byte changes (kind u8, bucket u32, node u16) or 6-byte runs (node, run)
FP = 0x0123456789ABCDEF
UNASSIGNED = 0xFFFF


def dlbs(kind, size, frm, to, count, body=b"", fp=FP, reserved=0, fmt=1, magic=b"DLBS"):
    return magic + struct.pack(">HBBIQQQI", fmt, kind, reserved, size, fp, frm, to, count) + body


def delta(size, frm, changes, fp=FP):
    body = b"".join(struct.pack(">BIH", k, b, n) for k, b, n in changes)
    return dlbs(1, size, frm, frm + len(changes), len(changes), body, fp)


def full(size, to, runs, fp=FP):
    body = b"".join(struct.pack(">HI", n, r) for n, r in runs)
    return dlbs(2, size, 0, to, len(runs), body, fp)


SYNC = {
    "up-to-date": dlbs(0, 1024, 5, 5, 0),
    "delta-set": delta(1024, 0, [(1, 0, 1), (1, 1023, 2), (1, 5, UNASSIGNED)]),
    "delta-free": delta(1024, 3, [(1, 7, 3), (2, 0, 3), (1, 8, 255)]),
    "full-runs": full(1024, 42, [(1, 300), (2, 300), (UNASSIGNED, 24), (3, 400)]),
    "full-split-runs": full(1024, 7, [(1, 512), (1, 512)]),
    "full-one-run": full(65536, 1, [(9, 65536)]),
    "reserved-set": dlbs(0, 1024, 1, 1, 0, reserved=0x5a),
    "bad-kind": dlbs(3, 1024, 0, 0, 0),
    "bad-format": dlbs(0, 1024, 0, 0, 0, fmt=2),
    "bad-magic": dlbs(0, 1024, 0, 0, 0, magic=b"DLBX"),
    "size-small": dlbs(0, 1023, 0, 0, 0),
    "size-large": dlbs(0, (1 << 26) + 1, 0, 0, 0),
    "versions-backwards": dlbs(0, 1024, 5, 4, 0),
    "delta-count-mismatch": dlbs(1, 1024, 0, 2, 1, struct.pack(">BIH", 1, 0, 1)),
    "delta-bucket-range": delta(1024, 0, [(1, 1024, 1)]),
    "delta-node-0": delta(1024, 0, [(1, 1, 0)]),
    "delta-free-unassigned": delta(1024, 0, [(2, 0, UNASSIGNED)]),
    "delta-bad-change-kind": delta(1024, 0, [(3, 0, 1)]),
    "full-short": full(1024, 1, [(1, 1000)]),
    "full-over": full(1024, 1, [(1, 1000), (2, 25)]),
    "full-run-0": full(1024, 1, [(1, 0), (2, 1024)]),
    "truncated": delta(1024, 0, [(1, 0, 1)])[:-1],
    "up-to-date-count": dlbs(0, 1024, 0, 0, 1),
    "short-header": b"DLBS\0\x01",
}
write("bucket_sync", SYNC)


# ---- sync_apply: flags byte, then (u16 length, DLBS message)...
def msgs(flags, *messages):
    return bytes([flags]) + b"".join(struct.pack(">H", len(m)) + m for m in messages)


write("sync_apply", {
    "delta-then-delta": msgs(1, delta(1024, 0, [(1, 0, 1), (1, 1, 2)]), delta(1024, 2, [(1, 2, 3), (2, 0, 1)])),
    "full-then-delta": msgs(3, full(1024, 10, [(1, 512), (2, 512)]), delta(1024, 10, [(1, 0, 3), (2, 0, 2)])),
    "gap": msgs(1, delta(1024, 4, [(1, 0, 1)]), delta(1024, 0, [(1, 0, 1)]), delta(1024, 0, [(1, 0, 2)])),
    "foreign": msgs(1, delta(1024, 0, [(1, 0, 1)], fp=FP ^ 1), full(2048, 3, [(1, 2048)])),
    "not-mirror": msgs(0, full(1024, 3, [(1, 1024)]), delta(1024, 0, [(1, 0, 1)])),
    "journal-overrun": msgs(1, delta(1024, 0, [(1, i, 1 + i % 3) for i in range(20)]),
                            delta(1024, 20, [(2, 0, 2)])),
    "full-backwards": msgs(7, delta(1024, 0, [(1, 0, 1)] * 9), full(1024, 2, [(4, 1024)]),
                           delta(1024, 2, [(1, 1, 5)])),
    "full-same-version": msgs(1, delta(1024, 0, [(1, 0, 1)]), full(1024, 1, [(2, 1024)])),
    "up-to-date": msgs(1, dlbs(0, 1024, 0, 0, 0), delta(1024, 0, [(1, 3, 3)])),
})

# ---- control_request: lines, each parsed by every Unix socket daemon and the sync port, and as dlbactl words
EXAMPLES = [
    "status", "hash", "hash all", "hash all 65536", "counters", "sync", "backends", "failover", "sweep", "summary",
    "node 2 drain", "node 2 enable", "node 2 disable", "node 2 weight 3", "backend web1 disable",
    "backend web2 drain", "role standby", "role active", "role active lease 500", "renew", "node 3 fail",
    "node 3 live", "node 3 stats 120 4 2.500", "sync-from 1", "sync-from none", "sweep-done 1700000000", "reload",
    "check-reload /etc/dlba/dlba.conf.staged", "PULL 9e3779b97f4a7c15 42",
]
CONTROL = {"example-%02d" % i: line.encode() for i, line in enumerate(EXAMPLES)}
CONTROL.update({
    "all-examples": "\n".join(EXAMPLES).encode(),
    "cli-all": b"hash --all\nhash --all 1024",
    "spaces-tabs": b"  node\t2   weight\r 3  ",
    "leading-zeros": b"node 002 weight 0003\nhash all 00",
    "out-of-range": b"node 0 drain\nnode 256 drain\nnode 2 weight 4294967296\nrole active lease 0",
    "bad-average": b"node 3 stats 1 2 2.5\nnode 3 stats 1 2 -1.000\nnode 3 stats 1 2 1e3",
    "extra-words": b"status now\nnode 3 fail hard\nrenew 1",
    "unknown": b"STATUS\nnod 2 drain\nrole boss",
    "pull-bad": b"PULL 0x12 1\nPULL 12345678901234567 1\nPULL 1 -1\nPULL ffffffffffffffff 18446744073709551615",
    "empty": b"",
    "blank-lines": b"\n\n \t\r\n",
    "binary": bytes(range(256)),
})
write("control_request", CONTROL)


# ---- push_request: request line, '\n', body (also read as reply lines and a JSON answer)
def fnv(data):
    h = 1469598103934665603
    for c in data:
        h = ((h ^ c) * 1099511628211) % 2 ** 64
    return "%016x" % h


CONF = open(os.path.join(ROOT, "conf", "dlba.conf"), "rb").read()
SMALL = b'array = { vip = "10.0.0.100"; tcp_ports = [80]; };\n'
write("push_request", {
    "prepare": b"PREPARE %s %d\n" % (fnv(SMALL).encode(), len(SMALL)) + SMALL,
    "prepare-demo": b"PREPARE %s %d\n" % (fnv(CONF).encode(), len(CONF)) + CONF,
    "commit": b"COMMIT 0123456789abcdef\n",
    "abort": b"ABORT 0123456789abcdef\n",
    "show": b"SHOW hash all 65536\n",
    "show-status": b"SHOW status",
    "admin": b"ADMIN node 2 weight 0\n",
    "admin-backend": b"ADMIN backend web1 drain\n",
    "show-admin": b"SHOW node 2 drain\n",
    "admin-show": b"ADMIN status\n",
    "nested": b"SHOW SHOW status\nADMIN ADMIN node 2 drain",
    "internal": b"ADMIN role active\nSHOW PULL 1 2",
    "bad-id": b"PREPARE 0123456789ABCDEF 1\nx",
    "huge-length": b"PREPARE 0123456789abcdef 18446744073709551615\n",
    "replies": b"x\nOK done\nERR no\nOK\nERR\nOKAY\nok fine\r\nERR  two spaces\r\n",
    "json-ok": b'SHOW status\n{"format":"dlba-reply","format_version":1,"ok":true,"message":"fine"}',
    "json-error": b'SHOW status\n{"format":"dlba-reply","format_version":1,"ok":false,"error":"no"}',
    "json-table": b'SHOW status\n{"format":"dlba-table","format_version":1,"name":"t","columns":[],"rows":[]}',
    "json-bad": b'SHOW status\n{"format":"dlba-reply","format_version":2,"ok":true}',
})

# ---- config: libconfig text
write("config", {
    "demo": CONF,
    "minimal": b'array = { vip = "10.0.0.100"; tcp_ports = [80]; };\n'
               b'nodes = ( { number = 1; eth0_mac = "02:00:00:00:00:01"; eth0_ip = "10.0.0.11";\n'
               b'            sched_mac = "02:00:00:00:00:02"; sched_ip = "10.0.0.21"; } );\n',
    "syntax-error": b"array = { vip = ; };",
    "unknown-section": b'arrays = { };',
    "wrong-type": b'array = { vip = 12; tcp_ports = "80"; };',
    "empty": b"",
    "comments": b"# nothing\n// here\n/* at all */\n",
})


# ---- classify and forwarder: Ethernet frames (port MAC 02:77:00:00:02:01, VIP 10.77.0.100, scheduler IP
#      10.77.0.21; TCP ports 80, 443, 8080 and UDP port 53 are scheduled)
PORT_MAC = bytes([2, 0x77, 0, 0, 2, 1])
ROUTER_MAC = bytes([2, 0x77, 0, 0, 0, 1])
BCAST = b"\xff" * 6
VIP = bytes([10, 77, 0, 100])
SCHED = bytes([10, 77, 0, 21])
CLIENT = bytes([10, 77, 1, 2])


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return struct.pack(">H", ~s & 0xFFFF)


def eth(payload, ethertype=0x0800, dst=PORT_MAC, src=ROUTER_MAC, vlan=None):
    tag = b"" if vlan is None else struct.pack(">HH", 0x8100, vlan)
    return dst + src + tag + struct.pack(">H", ethertype) + payload


def ipv4(proto, l4, src=CLIENT, dst=VIP, frag=0, ident=1, options=b""):
    ihl = 5 + len(options) // 4
    head = struct.pack(">BBHHHBB", 0x40 | ihl, 0, ihl * 4 + len(l4), ident, frag, 64, proto) + b"\0\0" + src + dst
    head += options
    return head[:10] + csum(head) + head[12:] + l4


def tcp(sport=40000, dport=80, payload=b"hi"):
    return struct.pack(">HHIIBBHHH", sport, dport, 1, 0, 0x50, 0x02, 65535, 0, 0) + payload


def udp(sport=5353, dport=53, payload=b"q"):
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def icmp(kind, code=0, rest=b"\0\0\0\0", payload=b""):
    body = struct.pack(">BBH", kind, code, 0) + rest + payload
    return body[:2] + csum(body) + body[4:]


def arp(target, op=1, sender=CLIENT, sender_mac=ROUTER_MAC):
    return struct.pack(">HHBBH", 1, 0x0800, 6, 4, op) + sender_mac + sender + b"\0" * 6 + target


FRAMES = {
    "tcp-syn": eth(ipv4(6, tcp())),
    "tcp-443": eth(ipv4(6, tcp(dport=443, payload=b"\x16\x03\x01"))),
    "tcp-other-port": eth(ipv4(6, tcp(dport=22))),
    "udp-53": eth(ipv4(17, udp())),
    "udp-other": eth(ipv4(17, udp(dport=54))),
    "vlan-tcp": eth(ipv4(6, tcp()), 0x8100, vlan=7)[:12] + struct.pack(">HH", 0x8100, 7) +
                struct.pack(">H", 0x0800) + ipv4(6, tcp()),
    "qinq": PORT_MAC + ROUTER_MAC + struct.pack(">HHHH", 0x88A8, 1, 0x8100, 2) + b"\x08\x00" + ipv4(6, tcp()),
    "ip-options": eth(ipv4(6, tcp(), options=b"\x01\x01\x01\x00")),
    "first-fragment": eth(ipv4(17, udp(payload=b"x" * 16), frag=0x2000, ident=77)),
    "later-fragment": eth(ipv4(17, b"y" * 16, frag=0x0003, ident=77)),
    "arp-vip": eth(arp(VIP), 0x0806, dst=BCAST),
    "arp-sched": eth(arp(SCHED), 0x0806, dst=BCAST) + b"\0" * 18,
    "arp-reply": eth(arp(VIP, op=2), 0x0806),
    "arp-gratuitous": eth(arp(CLIENT), 0x0806, dst=BCAST),
    "echo-sched": eth(ipv4(1, icmp(8, rest=b"\0\x01\0\x01", payload=b"ping"), dst=SCHED)),
    "echo-vip": eth(ipv4(1, icmp(8, rest=b"\0\x02\0\x01", payload=b"ping!"))),
    "echo-odd-options": eth(ipv4(1, icmp(8, payload=b"abc"), dst=SCHED, options=b"\x01\x01\x01\x00")),
    "icmp-error": eth(ipv4(1, icmp(3, 4, payload=ipv4(6, tcp(sport=80, dport=40000), src=VIP, dst=CLIENT)[:28]),
                           src=bytes([10, 77, 0, 1]))),
    "icmp-error-short": eth(ipv4(1, icmp(3, 4, payload=b"\x45" + b"\0" * 10))),
    "not-for-us": eth(ipv4(6, tcp()), dst=bytes([2, 0, 0, 0, 0, 9])),
    "ipv6": eth(b"\x60" + b"\0" * 39, 0x86DD),
    "bad-version": eth(b"\x65" + ipv4(6, tcp())[1:]),
    "truncated-ip": eth(ipv4(6, tcp()))[:30],
    "total-too-long": eth(ipv4(6, tcp())[:2] + b"\x05\xdc" + ipv4(6, tcp())[4:]),
    "padded": eth(ipv4(6, tcp(payload=b""))) + b"\0" * 6,
    "short": PORT_MAC + ROUTER_MAC,
}
write("classify", {("%s-%s" % (name, mode)): bytes([flag]) + frame
                   for name, frame in FRAMES.items() for mode, flag in (("active", 1), ("standby", 0))})


def burst(flags, *frames):
    return bytes([flags]) + b"".join(struct.pack(">H", len(f)) + f for f in frames)


ALL = list(FRAMES.values())
write("forwarder", {
    "mixed-active": burst(1, *ALL),
    "mixed-standby": burst(0, *ALL),
    "mixed-seed-sum": burst(3, *ALL),
    "no-node": burst(5, FRAMES["tcp-syn"], FRAMES["arp-vip"], FRAMES["echo-sched"], FRAMES["first-fragment"]),
    "fragments": burst(1, FRAMES["first-fragment"], FRAMES["later-fragment"], FRAMES["later-fragment"]),
    "fast-path-burst": burst(1, *[eth(ipv4(6, tcp(sport=1000 + i))) for i in range(32)]),
    "icmp-after-tcp": burst(1, eth(ipv4(6, tcp(sport=40000, dport=80))), FRAMES["icmp-error"]),
    "empty-frames": burst(1, b"", b"", FRAMES["tcp-syn"]),
})
