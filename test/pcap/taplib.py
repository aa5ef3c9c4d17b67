"""The little the single-process scheduler tests share: TAP results and stopping a process within bounds."""
import subprocess
import sys


class Results:
    def __init__(self):
        self.results = []

    def check(self, ok, name, detail=""):
        self.results.append((bool(ok), name, detail))

    def finish(self):
        """Prints the TAP plan and lines; returns the exit code."""
        print("1..%d" % len(self.results))
        for i, (ok, name, detail) in enumerate(self.results, 1):
            print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
            if not ok and detail:
                print("# " + str(detail).replace("\n", "\n# "))
        sys.stdout.flush()
        return 0 if all(ok for ok, _, _ in self.results) else 1


def stop(proc, timeout=10):
    """SIGTERM, then SIGKILL after `timeout` seconds; returns the exit code (None if it was never started)."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
