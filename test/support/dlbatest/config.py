"""Configuration files for the tests that run schedulers and node daemons: variants of conf/dlba.conf, the
example itself with a few settings replaced (the DLBA server's own files are built in dlbatest.server)."""
import os
import re

from dlbatest.paths import CONF, scheduler_binary
from dlbatest.procs import run
from dlbatest.tap import TestFailure, check

PROTOTYPE_CUT = "# DLBA server (dlba-server) sections"
SERVER_SECTIONS = ("server", "tls", "backends", "services")


def _example():
    with open(CONF) as f:
        return f.read()


def prototype_text(text=None):
    """conf/dlba.conf without the DLBA server's sections: the seed's prototype, where plain web servers on the
    nodes answer the VIP. (With a `server` section a node's daemon reports the node able to serve only when its
    dlba-server answers.)"""
    if text is None:
        text = _example()
    at = text.find(PROTOTYPE_CUT)
    if at < 0:
        return text
    return text[:text.rfind("\n# ====", 0, at) + 1]


def example_variant(path, control_socket="/run/dlba/scheduler.sock", idle_timeout=None, disabled=(),
                    weights=None):
    """A variant of conf/dlba.conf written to path: the example itself, with a few settings replaced."""
    text = _example()
    text, n = re.subn(r'control_socket = "[^"]*";', f'control_socket = "{control_socket}";', text)
    check(n == 1, "conf/dlba.conf: no control_socket setting to replace")
    if idle_timeout is not None:
        text, n = re.subn(r"bucket_idle_timeout = \d+;", f"bucket_idle_timeout = {idle_timeout};", text)
        check(n == 1, "conf/dlba.conf: no bucket_idle_timeout setting to replace")

    def per_node(match):
        block = match.group(0)
        number = int(re.search(r"number = (\d+);", block).group(1))
        if number in disabled:
            block = re.sub(r"enabled = true;", "enabled = false;", block)
        if weights and number in weights:
            block = re.sub(r"weight = \d+;", f"weight = {weights[number]};", block)
        return block

    text = re.sub(r"\{\s*number = \d+;.*?\}", per_node, text, flags=re.S)
    with open(path, "w") as f:
        f.write(text)
    return path


def strip_group(text, name):
    """Removes the top-level setting `name = {...};` or `name = (...);` from libconfig text (brackets balanced,
    ignoring comments and strings). Returns the text unchanged when there is none."""
    m = re.search(rf"(?m)^{name}\s*=\s*[{{(]", text)
    if not m:
        return text
    i = m.end() - 1
    depth = 0
    in_str = False
    while i < len(text):
        ch = text[i]
        if in_str:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == "#" or text.startswith("//", i):
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl
            continue
        elif ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
            if depth == 0:
                end = i + 1
                rest = re.match(r"\s*;?[^\S\n]*(#[^\n]*)?\n?", text[end:])
                return text[:m.start()] + text[end + (rest.end() if rest else 0):]
        i += 1
    raise TestFailure(f"unbalanced setting '{name}' in the configuration")


def failover_config(path, idle_timeout, failover=None):
    """conf/dlba.conf for the prototype array (nginx on every node, no dlba-server): the example with a short
    bucket_idle_timeout, a control socket that is never used (every process gets its own on the command line),
    and without the dlba-server sections. With a `server` section dlbad answers the status sweep from the DLBA
    server's monitor socket, and with no dlba-server running every node would be swept as failed.
    `failover`: {key: value} to set in the failover section (replacing the example's section, if any, whose
    other keys are kept). The file is checked with dlba-scheduler --check-config."""
    example_variant(path, control_socket=os.path.join(os.path.dirname(path), "unused.sock"),
                    idle_timeout=idle_timeout)
    with open(path) as f:
        text = f.read()
    for name in SERVER_SECTIONS:
        text = strip_group(text, name)
    if failover:
        keep = {}
        m = re.search(r"(?ms)^failover\s*=\s*\{(.*?)^\};?", text)
        if m:
            for k, v in re.findall(r"(?m)^\s*(\w+)\s*=\s*([^;#\n]+);", m.group(1)):
                keep[k] = v.strip()
            text = strip_group(text, "failover")
        keep.update({k: (f'"{v}"' if isinstance(v, str) else str(v)) for k, v in failover.items()})
        text += "\nfailover = {\n" + "".join(f"  {k} = {v};\n" for k, v in keep.items()) + "};\n"
    with open(path, "w") as f:
        f.write(text)
    cp = run([scheduler_binary(), "--", "--config", path, "--check-config"], check_rc=False)
    check(cp.returncode == 0, f"the test configuration is refused: {cp.stdout}{cp.stderr}")
    return path
