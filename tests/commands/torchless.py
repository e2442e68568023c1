"""Run `lab` command lines in one process where torch cannot be imported, and report for each whether it
tried: a bad flag must be refused before torch loads (2.5-7 s and ~660 MB saved on every typo).

Run as `python -m tests.commands.torchless` with a JSON list of argument lists on stdin (["labtui", ...] runs
labtui's command line); prints a JSON list of {"code", "err", "torch"} on stdout. Batched so that hundreds
of cases cost one interpreter start."""

import contextlib
import io
import json
import sys
import traceback


class _TorchBlocker:
    """A meta-path finder that refuses torch (and what needs it) and remembers that it was asked."""

    def __init__(self):
        self.asked = False

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchvision"):
            self.asked = True
            raise ImportError(f"torch blocked: {name}")
        return None


def run_blocked(cases: list[list[str]]) -> list[dict]:
    """Each argument list through commands.app.main with torch blocked: exit code, stderr, torch asked."""
    blocker = _TorchBlocker()
    sys.meta_path.insert(0, blocker)
    from lab_workbench.commands.app import main
    from lab_workbench.commands.labtui import main as labtui
    results = []
    for args in cases:
        blocker.asked = False
        err, code = io.StringIO(), 0
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                labtui(args[1:]) if args[:1] == ["labtui"] else main(args)  # labtui's flags are train's
            except SystemExit as e:
                code = e.code or 0
            except BaseException:  # a traceback is reported as such, with its text
                code, err = "traceback", io.StringIO(traceback.format_exc())
        results.append({"code": code, "err": err.getvalue(), "torch": blocker.asked})
    return results


if __name__ == "__main__":
    json.dump(run_blocked(json.load(sys.stdin)), sys.stdout)
