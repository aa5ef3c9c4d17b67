#!/usr/bin/python3
"""Count individual test cases from the logs of one or more `meson test` runs.

usage: count_tests.py LOGBASE...     (LOGBASE = build/meson-logs/testlog-unit, without .json / .junit.xml)
prints: "<passed> <failed> <skipped>" on stdout, and one line per failed case on stderr.

How meson 1.0 records results:
- LOGBASE.json has one JSON object per meson test (name, result, stdout, command, ...) and no subtests.
- LOGBASE.junit.xml has, for every test that produced several results (a TAP test), a <testsuite> named
  "<project>.<test name>" with one <testcase> per TAP result line, in order, marked <failure>/<error>/<skipped>.
  Single-result tests share a <testsuite> named "<project>" (and a timeout is not marked there), so their result
  is taken from the JSON.

Counting, per meson test:
- a test with TAP results counts each result; Catch2 v2's TAP reporter prints one result per *assertion*, each
  preceded by a "# <test case name>" comment, so for a Catch2 binary (its command has "--reporter tap") the
  assertions are grouped back into test cases: a case fails if any of its assertions failed;
- every case a TAP plan announced that never reported (crash, timeout) is a failure; if meson judged the whole
  test bad (non-zero exit, bail out, ...) and no counted case failed, that is one more failure;
- a test without TAP results counts once, with meson's verdict (SKIP counts as skipped).
"""
import json
import re
import sys
import xml.etree.ElementTree as ET

BAD = {"FAIL", "ERROR", "TIMEOUT", "UNEXPECTEDPASS", "INTERRUPT"}
TAP_RESULT = re.compile(r"^(not ok|ok)\b", re.IGNORECASE)
TAP_PLAN = re.compile(r"^1\.\.(\d+)")


def junit_suites(path):
    """{test name: [verdict per TAP result]} from a meson junit file; verdict is 'pass', 'fail' or 'skip'."""
    out = {}
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return out
    for suite in root.iter("testsuite"):
        name = suite.get("name", "")
        if "." not in name:
            continue  # the per-project suite of single-result tests
        test = name.split(".", 1)[1]
        verdicts = []
        for case in suite.findall("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                verdicts.append("fail")
            elif case.find("skipped") is not None:
                verdicts.append("skip")
            else:
                verdicts.append("pass")
        out[test] = verdicts
    return out


def catch2_case_names(stdout):
    """Test-case name of each TAP result line, from the '# name' comment Catch2 prints before it (or None)."""
    names = []
    prev_comment = None
    for line in stdout.splitlines():
        if TAP_RESULT.match(line):
            names.append(prev_comment)
            prev_comment = None
        elif line.startswith("#"):
            prev_comment = line[1:].strip()
        elif line.strip():
            prev_comment = None
    return names


def tap_plan(stdout):
    for line in stdout.splitlines():
        m = TAP_PLAN.match(line.strip())
        if m:
            return int(m.group(1))
    return None


def count(logbase, failures):
    passed = failed = skipped = 0
    subtests = junit_suites(logbase + ".junit.xml")
    try:
        with open(logbase + ".json", encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.strip()]
    except OSError:
        return 0, 0, 0
    for rec in records:
        name = rec.get("name", "?")
        result = rec.get("result", "ERROR")
        stdout = rec.get("stdout") or ""
        verdicts = subtests.get(name, [])
        is_catch2 = "--reporter" in (rec.get("command") or []) and "tap" in (rec.get("command") or [])
        cases = []  # (label, verdict)
        if verdicts:
            names = catch2_case_names(stdout) if is_catch2 else []
            if is_catch2 and len(names) == len(verdicts) and all(n is not None for n in names):
                rank = {"skip": 0, "pass": 1, "fail": 2}
                grouped = {}
                order = []
                for n, v in zip(names, verdicts):
                    if n not in grouped:
                        grouped[n] = v
                        order.append(n)
                    elif rank[v] > rank[grouped[n]]:
                        grouped[n] = v
                cases = [(f"{name}: {n}", grouped[n]) for n in order]
            else:
                cases = [(f"{name} #{i + 1}", v) for i, v in enumerate(verdicts)]
            for label, v in cases:
                if v == "pass":
                    passed += 1
                elif v == "skip":
                    skipped += 1
                else:
                    failed += 1
                    failures.append(label)
            plan = None if is_catch2 else tap_plan(stdout)  # Catch2 counts assertions in its plan
            missing = plan - len(verdicts) if plan and plan > len(verdicts) else 0
            if missing:
                failed += missing
                failures.append(f"{name}: {missing} planned case(s) never reported ({result})")
            elif result in BAD and not any(v == "fail" for _, v in cases):
                failed += 1
                failures.append(f"{name}: {result} although every reported case passed")
        else:
            if result in BAD:
                plan = tap_plan(stdout)
                n = plan if plan else 1
                failed += n
                failures.append(f"{name}: {result}" + (f" ({n} planned cases)" if plan else ""))
            elif result == "SKIP":
                skipped += 1
            else:
                passed += 1
    return passed, failed, skipped


def main(argv):
    failures = []
    total = [0, 0, 0]
    for logbase in argv[1:]:
        for i, v in enumerate(count(logbase, failures)):
            total[i] += v
    for f in failures:
        print(f"FAILED: {f}", file=sys.stderr)
    print(*total)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
