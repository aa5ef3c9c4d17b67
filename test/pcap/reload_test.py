#!/usr/bin/python3
"""Configuration reload of a running scheduler (request `reload` and SIGHUP): node changes take effect, a file
with errors is refused with file:line and the running configuration stays, and what cannot change while running
(table size, hash, VIP, ...) is refused with the reason.

usage: reload_test.py DLBA_SCHEDULER DLBACTL
"""
import signal
import sys
import time

from dlbatest import pcap
from dlbatest.ctl import ctl_result, rows_by
from dlbatest.tap import Results

RESULTS = Results()
check = RESULTS.check


NODE = """  {{ number = {n}; eth0_mac = "02:77:00:00:01:0{n}"; eth0_ip = "10.77.0.1{n}"; sched_mac = "02:77:00:00:02:0{n}";
    sched_ip = "10.77.0.2{n}"; weight = {w}; enabled = {e}; }}"""


def config(sock, table_size=1024, weights=(1, 1, 1), enabled=(True, True, True)):
    nodes = ",\n".join(NODE.format(n=i + 1, w=w, e="true" if en else "false")
                       for i, (w, en) in enumerate(zip(weights, enabled)))
    return ('array = { name = "reload"; vip = "10.77.0.100"; tcp_ports = [80]; };\n'
            'failover = { peer_keys = ["6b1f0c2e9d4a7f3851c0e2b9a4d7f6c31e8b0a5d2f9c4e7b1a3d6f0c8e2b5a94"]; };\n'
            'scheduler = { table_size = %d; control_socket = "%s"; };\nnodes = (\n%s\n);\n' % (table_size, sock, nodes))


def main():
    sched, ctl = sys.argv[1], sys.argv[2]
    run = pcap.Run(sched, "dlba-reload")
    sock = run.file("s.sock")

    def ask(*args):
        return ctl_result(sock, *args, exe=ctl)

    def rows():
        _, doc, _ = ask("status")
        return rows_by(doc)

    def body():
        conf = run.file("dlba.conf")
        with open(conf, "w") as f:
            f.write(config(sock))
        empty = run.file("empty.pcap")
        pcap.write_pcap(empty)
        proc = run.start(empty, ["--config", conf, "--node", "1"])
        check(run.wait_socket(sock), "scheduler starts")
        # 1. Weight change and a disabled node take effect.
        with open(conf, "w") as f:
            f.write(config(sock, weights=(1, 5, 1), enabled=(True, True, False)))
        rc, doc, _ = ask("raw", "reload")
        check(rc == 0 and doc and doc.get("ok"), "a valid change is reloaded", str(doc))
        r = rows()
        check(r[2]["weight"] == 5 and r[3]["state"] == "disabled", "new weight and enabled flag are in effect", str(r))

        # 2. A file with an error is refused with file:line; nothing changes.
        with open(conf, "w") as f:
            f.write(config(sock, weights=(1, 7, 1)).replace("weight = 7;", "weight = 7;\n  colour = \"blue\";"))
        rc, doc, err = ask("raw", "reload")
        msg = (doc or {}).get("error", "") + err
        check(rc != 0 and (conf + ":") in msg and "colour" in msg, "a bad file is refused with file:line and the reason", msg)
        check(rows()[2]["weight"] == 5, "after a refused reload the running configuration stays")

        # 3. What cannot change while running is refused with the reason.
        with open(conf, "w") as f:
            f.write(config(sock, table_size=2048, weights=(1, 9, 1)))
        rc, doc, err = ask("raw", "reload")
        msg = (doc or {}).get("error", "") + err
        check(rc != 0 and "table_size" in msg, "changing the table size while running is refused", msg)
        check(rows()[2]["weight"] == 5, "and changes nothing")

        # 4. SIGHUP reloads too.
        with open(conf, "w") as f:
            f.write(config(sock, weights=(1, 3, 1)))
        proc.send_signal(signal.SIGHUP)
        ok = False
        for _ in range(50):
            if rows()[2]["weight"] == 3:
                ok = True
                break
            time.sleep(0.1)
        check(ok, "SIGHUP reloads the configuration")
        check(proc.poll() is None, "the scheduler keeps running through reloads")

    return RESULTS.run(body, run.close)


if __name__ == "__main__":
    sys.exit(main())
