"""Where a run's wall-clock time goes: named phases, and the time since the process started.

One small helper so that every phase is measured the same way; results.json records `to_dict()`.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

_IMPORTED = time.perf_counter()  # the fallback origin where /proc cannot tell when the process started
PHASES = ("startup", "data", "setup", "train", "validation", "checkpoints", "test")


def process_age() -> float:
    """Seconds since this process started (Linux: from /proc, so the interpreter's start and every import
    count); elsewhere, since this module was imported."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        with open("/proc/uptime", "rb") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK"))  # field 22: start time, in ticks
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _IMPORTED


class Timings:
    """Seconds per phase of one run. For the first run of a process, 'startup' is the process's age when the
    run began (interpreter, imports, argument parsing) and the wall time counts from the process's start;
    later runs in the same process (a sweep, labtui) count from their own start. The phases are measured with
    `phase()`; `to_dict()` adds the wall time and what no phase accounts for."""

    _first_in_process = True

    def __init__(self) -> None:
        now = time.perf_counter()
        first, Timings._first_in_process = Timings._first_in_process, False
        self._origin = now - process_age() if first else now
        self.seconds: dict[str, float] = {"startup": now - self._origin}

    @contextmanager
    def phase(self, name: str):
        """Add the time spent in the `with` block to phase `name`."""
        t = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - t)

    def add(self, name: str, seconds: float) -> None:
        """Add seconds measured elsewhere to phase `name`."""
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def wall(self) -> float:
        """Seconds since the process started."""
        return time.perf_counter() - self._origin

    def to_dict(self) -> dict:
        """{phase: seconds} in PHASES order, 'other' (the wall time no phase accounts for) and 'wall'."""
        out = {k: round(self.seconds[k], 4) for k in PHASES if k in self.seconds}
        out.update({k: round(v, 4) for k, v in self.seconds.items() if k not in out})
        wall = self.wall()
        out["other"] = round(max(0.0, wall - sum(self.seconds.values())), 4)
        out["wall"] = round(wall, 4)
        return out
