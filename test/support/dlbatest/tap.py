"""TAP output for the integration tests: one line per test case, diagnostics as '# ' lines after it.

Two shapes, as the suites need them:
- Suite: named cases run in order, each with a time limit (SIGALRM); a setup failure makes every case 'not ok'.
- Results: a list of checks made by one straight-line script (the single-process scheduler tests), printed at the
  end; a crash of the script is one more failed check.
"""
import os
import signal
import sys
import time
import traceback

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class TestFailure(Exception):
    pass


class CaseTimeout(Exception):
    pass


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def wait_until(fn, timeout, interval=0.05, what="condition"):
    """Calls fn() until it returns something truthy (returned) or timeout seconds pass (TestFailure)."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - retried until the deadline, reported then
            last_exc = e
        if time.monotonic() >= deadline:
            extra = f" (last error: {last_exc})" if last_exc else ""
            raise TestFailure(f"timed out after {timeout}s waiting for {what}{extra}")
        time.sleep(interval)


def diag(text):
    for line in str(text).rstrip().splitlines():
        print(f"# {line}", flush=True)


def _where(exc):
    """file:line of the innermost frame outside this package: the line of the suite that failed."""
    tb = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in tb if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR + os.sep)] or tb
    return f"at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}"


class Suite:
    """Test cases run in order, one TAP line each. A setup failure makes every case 'not ok'."""

    def __init__(self, name, setup_timeout=180):
        self.name = name
        self.setup_timeout = setup_timeout
        self.cases = []
        self.failed = 0
        self.diag_hooks = []  # called on a failing case; return lines of diagnostics

    def case(self, title, timeout=60):
        def register(fn):
            self.cases.append((title, fn, timeout))
            return fn
        return register

    diag = staticmethod(diag)

    @staticmethod
    def _on_alarm(signum, frame):
        raise CaseTimeout("test case took too long")

    def run(self, setup=None, teardown=None):
        print(f"1..{len(self.cases)}", flush=True)
        signal.signal(signal.SIGALRM, self._on_alarm)
        setup_error = None
        try:
            if setup:
                try:
                    signal.alarm(self.setup_timeout)
                    setup()
                except BaseException as e:  # noqa: BLE001 - reported as TAP, then every case fails
                    if isinstance(e, KeyboardInterrupt):
                        raise
                    setup_error = f"setup failed: {e}"
                    self.diag(traceback.format_exc())
                    self._diagnostics()
                finally:
                    signal.alarm(0)
            for i, (title, fn, timeout) in enumerate(self.cases, 1):
                if setup_error:
                    print(f"not ok {i} - {title}", flush=True)
                    self.diag(setup_error)
                    self.failed += 1
                    continue
                start = time.monotonic()
                try:
                    signal.alarm(timeout)
                    fn()
                    signal.alarm(0)
                    print(f"ok {i} - {title}", flush=True)
                    self.diag(f"{time.monotonic() - start:.1f}s")
                except BaseException as e:  # noqa: BLE001
                    signal.alarm(0)
                    if isinstance(e, (KeyboardInterrupt, SystemExit)):
                        raise
                    self.failed += 1
                    print(f"not ok {i} - {title}", flush=True)
                    if isinstance(e, (TestFailure, CaseTimeout)):
                        self.diag(f"{type(e).__name__}: {e}")
                        self.diag(_where(e))
                    else:
                        self.diag(traceback.format_exc())
                    self._diagnostics()
        finally:
            signal.alarm(0)
            if teardown:
                try:
                    teardown()
                except Exception:  # noqa: BLE001
                    self.diag("teardown: " + traceback.format_exc())
        return 1 if self.failed or setup_error else 0

    def _diagnostics(self):
        for hook in self.diag_hooks:
            try:
                self.diag(hook())
            except Exception as e:  # noqa: BLE001
                self.diag(f"(diagnostics failed: {e})")


def main(suite, setup=None, teardown=None):
    """Runs the suite and exits with its status; a failure outside any case bails out (TAP)."""
    try:
        sys.exit(suite.run(setup, teardown))
    except TestFailure as e:
        print(f"Bail out! {e}", flush=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


class Results:
    """Checks of a straight-line script, printed as TAP at the end (one line per check, in the order made)."""

    def __init__(self):
        self.results = []

    def check(self, ok, name, detail=""):
        self.results.append((bool(ok), name, detail))

    def run(self, body, cleanup=None):
        """body() makes the checks; if it raises, that is the failed check "harness ran to completion". cleanup()
        runs after it in every case (it may make checks too). Prints the TAP lines; returns the exit code."""
        try:
            body()
        except Exception as e:  # noqa: BLE001 - a crash in the harness is a failure, not a skip
            self.check(False, "harness ran to completion", repr(e))
        finally:
            if cleanup:
                cleanup()
        return self.finish()

    def finish(self):
        """Prints the TAP plan and lines; returns the exit code."""
        print("1..%d" % len(self.results))
        for i, (ok, name, detail) in enumerate(self.results, 1):
            print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
            if not ok and detail:
                print("# " + str(detail).replace("\n", "\n# "))
        sys.stdout.flush()
        return 0 if all(ok for ok, _, _ in self.results) else 1
