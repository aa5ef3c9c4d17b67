#!/usr/bin/python3
"""scripts/fuzz, briefly: builds the libFuzzer targets with clang + ASan + UBSan (only those it runs, in a build
directory kept between runs), fuzzes each for a few seconds on its committed corpus and reports per target
runs=, crashes=, cov= and ft= in its documented format; a fuzzing round with --no-merge leaves the committed
corpus as it is; an unknown target is refused."""
import os
import re
import subprocess

from dlbatest.paths import BUILD_ROOT, SOURCE_ROOT
from dlbatest.tap import Suite, check, diag, main

suite = Suite("fuzz_campaign_smoke", setup_timeout=240)
FUZZ = os.path.join(SOURCE_ROOT, "scripts", "fuzz")
TARGETS = ["heartbeat", "bucket_sync"]  # two small ones: the script is under test here, not the targets
SECONDS = 4
LINE = re.compile(r"^(\S+) runs=(\d+) crashes=(\d+) cov=(\d+) ft=(\d+) corpus=(\d+) new=(-?\d+) "
                  r"exec_per_s=(\d+) seconds=(\d+)$")
SUMMARY = re.compile(r"^fuzzed (\d+) targets: (\d+) runs, (\d+) crashes$")
ENV = dict(os.environ, DLBA_FUZZ_BUILD_DIR=os.path.join(BUILD_ROOT, "fuzz-smoke"))
result = {}
corpus_before = {}


def corpus_files():
    return {t: sorted(os.listdir(os.path.join(SOURCE_ROOT, "test", "fuzz", "corpus", t))) for t in TARGETS}


def setup():
    corpus_before.update(corpus_files())
    proc = subprocess.run([FUZZ, "--seconds", str(SECONDS), "--no-merge"] + TARGETS, env=ENV, capture_output=True,
                          text=True, timeout=230)
    result["proc"] = proc
    result["lines"] = proc.stdout.splitlines()
    if proc.returncode != 0:
        diag(proc.stdout)
        diag(proc.stderr[-3000:])


def target_lines():
    found = {}
    for line in result["lines"]:
        m = LINE.match(line)
        if m:
            found[m.group(1)] = [int(g) for g in m.groups()[1:]]
    return found


@suite.case("scripts/fuzz builds and runs the targets and exits 0")
def exits_zero():
    proc = result["proc"]
    check(proc.returncode == 0, f"exit status {proc.returncode}: {proc.stderr[-500:]}")


@suite.case("one line per target, in order, in the documented format, then the summary")
def format_ok():
    lines = result["lines"]
    check(len(lines) == len(TARGETS) + 1, f"expected {len(TARGETS) + 1} lines, got {lines}")
    for t, line in zip(TARGETS, lines):
        m = LINE.match(line)
        check(m and m.group(1) == t, f"not a '{t} runs=...' line: {line!r}")
    check(SUMMARY.match(lines[-1]), f"not a summary line: {lines[-1]!r}")


@suite.case("every target ran (runs > 0), found no crash and reports its coverage")
def runs_and_coverage():
    found = target_lines()
    for t in TARGETS:
        check(t in found, f"no line for {t}")
        runs, crashes, cov, ft, corpus, _new, rate, seconds = found[t]
        diag(f"{t}: runs={runs} crashes={crashes} cov={cov} ft={ft} corpus={corpus} exec/s={rate} {seconds}s")
        check(runs > 0, f"{t}: runs={runs}")
        check(crashes == 0, f"{t}: crashes={crashes}")
        check(cov > 0 and ft >= cov, f"{t}: cov={cov} ft={ft}")
        check(corpus == len(corpus_before[t]), f"{t}: corpus={corpus}, the directory holds {len(corpus_before[t])}")
        check(SECONDS <= seconds <= SECONDS + 60, f"{t}: ran {seconds}s for --seconds {SECONDS}")


@suite.case("the summary adds up the targets' runs and crashes")
def summary_adds_up():
    found = target_lines()
    m = SUMMARY.match(result["lines"][-1])
    check(m, "no summary line")
    check(int(m.group(1)) == len(TARGETS), m.group(0))
    check(int(m.group(2)) == sum(v[0] for v in found.values()), m.group(0))
    check(int(m.group(3)) == 0, m.group(0))


@suite.case("with --no-merge the committed corpus is unchanged")
def corpus_unchanged():
    check(corpus_files() == corpus_before, "files were added to or removed from a committed corpus")


@suite.case("an unknown target is refused before anything is built or run")
def unknown_target():
    proc = subprocess.run([FUZZ, "--seconds", "1", "no_such_target"], env=ENV, capture_output=True, text=True,
                          timeout=30)
    check(proc.returncode != 0, "exit status 0")
    check("unknown target 'no_such_target'" in proc.stderr, proc.stderr)
    check("runs=" not in proc.stdout, proc.stdout)


if __name__ == "__main__":
    main(suite, setup)
