"""metrics.csv: writing one row per epoch (flushed at once) and reading the rows back, tolerantly."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

from lab_workbench.engine.core.errors import CheckpointError
from lab_workbench.engine.core.files import atomic_write, crash_point, read_limited, why
from lab_workbench.engine.contract.values import HUGE, MAX_FIELD, number
from lab_workbench.engine.contract.events import METRICS_HEADER


class MetricsWriter:
    """Appends one row per epoch to metrics.csv and flushes it at once, so `tail -f` can follow."""

    def __init__(self, path: str | Path, create: bool = True):
        self.path = Path(path)
        if create and not self.path.exists():
            self._rewrite([])

    def _rewrite(self, rows):
        def write(tmp):
            with open(tmp, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(METRICS_HEADER)
                for r in rows:
                    w.writerow([_fmt(r[k]) for k in METRICS_HEADER])
        atomic_write(self.path, write)

    def rewrite(self, rows: list[dict]) -> None:
        """Replace the file with these rows (a resume restores the rows its checkpoint describes)."""
        self._rewrite(rows)

    def append(self, row: dict) -> None:
        """One whole line in one write, flushed and fsynced: a crash leaves no half row behind."""
        line = ",".join(str(_fmt(row[k])) for k in METRICS_HEADER) + "\n"
        crash_point()
        try:  # O_NOFOLLOW: a metrics.csv swapped for a symlink must not take rows elsewhere
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
            with open(fd, "a", newline="") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            raise CheckpointError(f"{self.path}: cannot append a row ({why(e)})") from None
        crash_point()


def _fmt(v):
    return f"{v:.6g}" if isinstance(v, float) else v


METRICS_LIMIT = 1 << 30  # a million epochs take about 80 MB; beyond this no run of lab wrote it


def read_metrics(path: str | Path, max_rows: int | None = None) -> list[dict]:
    """Rows of a metrics.csv as dicts of numbers. Lines that are not rows of numbers (a half-written last line,
    bad bytes, huge fields) are skipped. With max_rows, a longer file is thinned to evenly spaced rows that keep
    the first and the last, so that a viewer draws millions of epochs without hanging."""
    try:
        return parse_metrics(read_limited(path, METRICS_LIMIT), max_rows)
    except CheckpointError:  # missing, a pipe or a device, or larger than any run writes
        return []


def parse_metrics(data: bytes, max_rows: int | None = None) -> list[dict]:
    """read_metrics on the bytes of a metrics.csv."""
    body = data.split(b"\n")[1:]
    if max_rows is not None and len(body) > max_rows:
        step = len(body) / max_rows
        picked = sorted({int(i * step) for i in range(max_rows)} | {len(body) - 2, len(body) - 1})
        body = [body[i] for i in picked if i >= 0]
    return [row for row in map(parse_row, body) if row is not None]


MAX_SECONDS = 1e9  # an epoch's seconds: about 30 years


def parse_row(line: bytes) -> dict | None:
    """A row of numbers, or None for a line that is not one; NaN, inf or huge metrics read as NaN (a value the
    views skip), and `seconds` that is not a plausible duration as 0."""
    parts = line.split(b",")
    if len(parts) != len(METRICS_HEADER) or any(len(p) > MAX_FIELD for p in parts):
        return None
    try:
        values = [float(v) for v in parts]
    except ValueError:
        return None
    epoch = number(values[0], 0, HUGE)
    if epoch is None or epoch != int(epoch):
        return None
    row = {k: number(v, default=math.nan) for k, v in zip(METRICS_HEADER, values)}
    row["epoch"], row["seconds"] = int(epoch), number(row["seconds"], 0.0, MAX_SECONDS, 0.0)
    return row


