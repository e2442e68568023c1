"""How a headless `lab train` meets signals and wall-clock limits: always with a resumable checkpoint.

SIGTERM, SIGINT: stop at the next batch, mark the run `interrupted`, exit 128+signal; a second SIGINT
aborts the clean-up at once (the run is still marked `interrupted`). SIGUSR1 (Slurm's warning before a
time limit or preemption): the same stop, then `scontrol requeue $SLURM_JOB_ID` when under Slurm. SIGHUP
(the SSH session closed): the run goes on; what it would print to the lost terminal goes to /dev/null.
--time-limit: the same stop once that much wall-clock time has passed since the command started.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.runtime import detach_from_terminal

EXIT_REQUEUED = 0  # the job goes on as a new allocation; this one ended as planned
EXIT_TIME_LIMIT = 75  # EX_TEMPFAIL: stopped early on purpose, resumable with --resume


def parse_duration(text: str | None) -> float | None:
    """'3h50m', '90m', '45s', '1h', '2d', '1:30:00', '90' (seconds) -> seconds."""
    if text is None:
        return None
    t = text.strip().lower()
    if re.fullmatch(r"\d+(:\d{1,2}){1,2}", t):
        parts = [int(p) for p in t.split(":")]
        while len(parts) < 3:
            parts.insert(0, 0)
        seconds = parts[0] * 3600 + parts[1] * 60 + parts[2]
    elif re.fullmatch(r"\d+(\.\d+)?", t):
        seconds = float(t)
    elif re.fullmatch(r"(\d+(\.\d+)?[dhms])+", t):
        unit = {"d": 86400, "h": 3600, "m": 60, "s": 1}
        seconds = sum(float(n) * unit[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)([dhms])", t))
    else:
        raise ConfigError(f"--time-limit: expected a duration like 3h50m, 90m, 45s or 1:30:00, got {text!r}")
    if seconds <= 0:
        raise ConfigError(f"--time-limit: expected a positive duration, got {text!r}")
    return seconds


class StopFlag:
    """The trainer's should_stop: polled between batches."""

    HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1, signal.SIGHUP)

    def __init__(self, time_limit: float | None = None, clock=time.monotonic):
        self.signum = None
        self.reason = None  # 'signal', 'requeue' or 'time-limit'
        self.deadline = None if time_limit is None else clock() + time_limit
        self.clock = clock
        self.started = False  # training has begun (RunStarted): before it, a stop has nothing to save
        self._old = {}

    def __enter__(self):
        for s in self.HANDLED:
            self._old[s] = signal.signal(s, self._handle)
        return self

    def _handle(self, signum, frame):
        if signum == signal.SIGHUP:
            detach_from_terminal()
            return
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        if self.signum is None:
            self.signum = signum
            self.reason = "requeue" if signum == signal.SIGUSR1 else "signal"
            _say(f"\n{signal.Signals(signum).name}: stopping {self._where()}\n")

    def __call__(self):
        if self.signum is None and self.deadline is not None and self.clock() >= self.deadline:
            self.reason = "time-limit"
            _say(f"\n--time-limit reached: stopping {self._where()}\n")
            self.deadline = None
            self.signum = 0
        return "interrupted" if self.signum is not None else None

    def _where(self) -> str:
        if self.started:
            return "at this batch with a checkpoint (resume with --resume)"
        return "before training starts"

    def watching(self, on_event):
        """`on_event`, noting when training starts: what a stop's message says depends on it."""
        def forward(event) -> None:
            if type(event).__name__ == "RunStarted":
                self.started = True
            on_event(event)
        return forward

    def __exit__(self, *exc):
        for s, h in self._old.items():
            signal.signal(s, h)

    def exit_code(self) -> int:
        """What the command exits with after an interrupted run."""
        if self.reason == "time-limit":
            return EXIT_TIME_LIMIT
        if self.reason == "requeue" and requeue():
            return EXIT_REQUEUED
        return 128 + (self.signum or 0)


def requeue() -> bool:
    """`scontrol requeue` this Slurm job; False when not under Slurm or when it fails (said on stderr)."""
    job = os.environ.get("SLURM_JOB_ID")
    if not job:
        return False
    # said before the call: a running job's requeue kills this process, often before scontrol returns
    _say(f"requeueing Slurm job {job}: it resumes with --resume auto\n")
    try:
        r = subprocess.run(["scontrol", "requeue", job], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        _say(f"requeue of Slurm job {job} failed: {e}\n")
        return False
    if r.returncode != 0:
        _say(f"requeue of Slurm job {job} failed: {(r.stderr or r.stdout).strip()[:200]}\n")
        return False
    return True


def _say(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
