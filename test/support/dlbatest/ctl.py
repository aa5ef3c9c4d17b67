"""Talking to the daemons' control and monitor sockets: through dlbactl (as an operator would) or with one request
line on the socket itself (faster, for polling), and reading the dlba-table answers."""
import contextlib
import json
import os
import socket
import subprocess
import time

from dlbatest.procs import run
from dlbatest.tap import TestFailure


def request(sock_path, line, timeout=5):
    """One request line on a Unix socket; the whole answer (read until the daemon closes or `timeout` passes)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall(line.encode() + b"\n")
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks).decode()
    finally:
        s.close()


def ask(sock_path, line, timeout=2):
    """One request line, the JSON answer parsed (None when the socket is unreachable or answers no JSON)."""
    try:
        text = request(sock_path, line, timeout)
    except OSError:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def ctl(sock_path, *args, json_out=False, check_rc=True, timeout=10, exe=None):
    """Runs dlbactl --socket PATH [--json] ARGS (exe, else $DLBA_DLBACTL); returns CompletedProcess. Without a
    built dlbactl, talks to the socket itself (one request line; 'hash --all' becomes 'hash all'), returning the
    raw JSON as stdout."""
    exe = exe or os.environ.get("DLBA_DLBACTL")
    if exe and os.access(exe, os.X_OK):
        cmd = [exe, "--socket", sock_path] + (["--json"] if json_out else []) + [str(a) for a in args]
        return run(cmd, timeout=timeout, check_rc=check_rc)
    words = ["all" if a == "--all" else str(a) for a in args]
    try:
        out = request(sock_path, " ".join(words), timeout)
        rc = 0
        with contextlib.suppress(ValueError):
            if json.loads(out).get("ok") is False:
                rc = 1
    except OSError as e:
        out, rc = str(e), 3
    cp = subprocess.CompletedProcess(["(raw)", sock_path] + words, rc, out, "")
    if check_rc and rc != 0:
        raise TestFailure(f"control request {' '.join(words)} failed: {out}")
    return cp


def ctl_result(sock_path, *args, timeout=10, exe=None):
    """(exit status, the JSON it printed or None, stderr) of dlbactl --json ARGS; a refusal is not an error."""
    cp = ctl(sock_path, *args, json_out=True, check_rc=False, timeout=timeout, exe=exe)
    doc = None
    if cp.stdout.strip().startswith("{"):
        with contextlib.suppress(ValueError):
            doc = json.loads(cp.stdout)
    return cp.returncode, doc, cp.stderr


def ctl_json(sock_path, *args, check_rc=True, timeout=10, exe=None):
    """The JSON answer of dlbactl --json ARGS; None when it fails and check_rc is False."""
    cp = ctl(sock_path, *args, json_out=True, check_rc=check_rc, timeout=timeout, exe=exe)
    if cp.returncode != 0:
        return None
    try:
        return json.loads(cp.stdout)
    except ValueError as e:
        if check_rc:
            raise TestFailure(f"dlbactl {' '.join(map(str, args))} --json printed no JSON: {cp.stdout[:300]}") from e
        return None


def pairs(doc):
    """{first column: second column} of a dlba-table (counters, status figures)."""
    return {row[0]: row[1] for row in doc["rows"]}


def rows_by(doc, key_col=0):
    """{key column: {column name: value}} of a dlba-table."""
    names = [c["name"] for c in doc["columns"]]
    return {row[key_col]: dict(zip(names, row)) for row in doc["rows"]}
