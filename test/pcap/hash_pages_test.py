#!/usr/bin/python3
"""`dlbactl hash --all` over more than one page: the scheduler answers a page of 65,536 assigned buckets at a time
and dlbactl must fetch and join every page. 120,000 SYNs from distinct client addresses (a raw pcap written here,
no scapy: it is fast) go through the real binary on net_pcap into a 262,144-bucket table, leaving ~95,000 buckets
assigned; the listing must hold exactly the number the table's meta counts, each bucket once, in order.

usage: hash_pages_test.py DLBA_SCHEDULER DLBACTL
"""
import os
import struct
import sys
import time

from dlbatest import pcap
from dlbatest.ctl import ctl_result, pairs
from dlbatest.tap import Results

RESULTS = Results()
check = RESULTS.check
FRAMES = 120000
PAGE = 65536  # ControlPlane::kHashPageRows

CONFIG = """
array = { name = "pages"; vip = "10.77.0.100"; tcp_ports = [80]; };
failover = { peer_keys = ["6b1f0c2e9d4a7f3851c0e2b9a4d7f6c31e8b0a5d2f9c4e7b1a3d6f0c8e2b5a94"]; };  # a fixed test key
scheduler = { table_size = 262144; bucket_idle_timeout = 300; control_socket = "%s"; };
nodes = (
  { number = 1; eth0_mac = "02:77:00:00:01:01"; eth0_ip = "10.77.0.11"; sched_mac = "02:77:00:00:02:01"; sched_ip = "10.77.0.21"; },
  { number = 2; eth0_mac = "02:77:00:00:01:02"; eth0_ip = "10.77.0.12"; sched_mac = "02:77:00:00:02:02"; sched_ip = "10.77.0.22"; }
);
"""


def checksum(data):
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def syn_frame(i):
    src = (10 << 24) | (78 << 16) | (i // 50000 << 8)  # 10.78.x.0/24 blocks, 50,000 ports each
    sport = 10000 + i % 50000
    tcp = struct.pack("!HHIIBBHHH", sport, 80, i, 0, 5 << 4, 0x02, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xffff, 0, 64, 6, 0, struct.pack("!I", src),
                     bytes([10, 77, 0, 100]))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = bytes.fromhex("027700000201" "027700000001") + b"\x08\x00"  # to the scheduler port from the router
    return eth + ip + tcp


def main():
    sched, dlbactl = sys.argv[1], sys.argv[2]
    run = pcap.Run(sched, "dlba-pages")
    sock = run.file("s.sock")

    def ctl(*args, timeout=120):
        return ctl_result(sock, "--timeout", "10000", *args, timeout=timeout, exe=dlbactl)

    def body():
        conf = run.file("dlba.conf")
        with open(conf, "w") as f:
            f.write(CONFIG % sock)
        frames = run.file("in.pcap")
        pcap.write_pcap(frames, (syn_frame(i) for i in range(FRAMES)))
        proc = run.start(frames, ["--config", conf, "--node", "1", "--role", "active"], memory=512)
        rx = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if os.path.exists(sock):
                rc, doc, _ = ctl("counters")
                if rc == 0:
                    rx = pairs(doc).get("rx", 0)
                    if rx >= FRAMES:
                        break
            time.sleep(0.2)
        check(rx == FRAMES, "the scheduler received every SYN", "rx=%s want %d" % (rx, FRAMES))
        rc, doc, err = ctl("hash")
        assigned = doc["meta"]["assigned"] if rc == 0 else 0
        check(assigned > PAGE, "more buckets assigned than one page holds", "assigned=%s (rc %s %s)" % (assigned, rc, err))
        rc, doc, err = ctl("hash", "--all")
        doc = doc if rc == 0 else {"rows": [], "meta": {}}
        buckets = [r[0] for r in doc["rows"]]
        print("# %d SYNs, %d buckets assigned, hash --all listed %d rows" % (FRAMES, assigned, len(buckets)))
        check(rc == 0 and len(buckets) == assigned > PAGE, "hash --all lists every assigned bucket across pages",
              "rc %s, %d rows for %d assigned: %s" % (rc, len(buckets), assigned, err[-300:]))
        check(buckets and buckets == sorted(set(buckets)), "each bucket once, in order")
        check(doc["meta"].get("next_bucket", 0) is None, "the joined listing says no page is left")
        check(doc["rows"] and all(r[1] in (1, 2) for r in doc["rows"]), "every listed bucket names a configured node")

    def cleanup():
        rc = run.close()
        check(rc == 0, "scheduler stops cleanly", "rc=%s" % rc)

    return RESULTS.run(body, cleanup)


if __name__ == "__main__":
    sys.exit(main())
