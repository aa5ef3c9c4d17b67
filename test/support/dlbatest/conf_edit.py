#!/usr/bin/python3
"""Per-node edits of scripts/array's configuration copies (DLBA_ARRAY_CONF_EDIT):
conf_edit.py --edits-file=EDITS.json FILE NODE.

EDITS.json: {"all": [[old, new], ...], "2": [[old, new], ...]}, applied in order; each old text must occur in the
file (a test that edits nothing must fail loudly, not run on the stock configuration)."""
import json
import os
import sys


def bring_up(state, workdir_prefix, edits):
    """array.bring_up with `edits` written into each node's copy of the configuration by scripts/array."""
    from dlbatest import array  # the module is also run as a script by scripts/array, without the test's imports
    edits_path = os.path.join("/tmp", f"dlba-conf-edit-{os.getpid()}.json")
    with open(edits_path, "w") as f:
        json.dump(edits, f)
    array.ENV["DLBA_ARRAY_CONF_EDIT"] = f"{sys.executable} {os.path.abspath(__file__)} --edits-file={edits_path}"
    try:
        return array.bring_up(state, workdir_prefix)
    finally:
        os.unlink(edits_path)
        del array.ENV["DLBA_ARRAY_CONF_EDIT"]


def main():
    flag, path, node = sys.argv[1:4]
    if not flag.startswith("--edits-file="):
        sys.exit("usage: conf_edit.py --edits-file=EDITS.json FILE NODE")
    with open(flag.split("=", 1)[1]) as f:
        edits = json.load(f)
    with open(path) as f:
        text = f.read()
    for old, new in edits.get("all", []) + edits.get(node, []):
        if old not in text:
            sys.exit(f"conf_edit: {path}: no {old!r}")
        text = text.replace(old, new)
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
