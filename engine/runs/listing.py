"""The run folder: config.json, metrics.csv, results.json, best.pt, last.pt."""

from __future__ import annotations

import csv
import errno
import math
import os
import socket
import stat
import time
from pathlib import Path

from engine.errors import CheckpointError
from engine.files import atomic_write, read_json, write_json  # noqa: F401  (re-exported for the faces)
from engine.files import TMP_SUFFIX, crash_point, remove_temp_files, why
from engine.training.events import METRICS_HEADER

LOCK_FILE = ".lock"


PRE_CONFIG = {LOCK_FILE, "metrics.csv", "progress.json"}  # what a first start (of any lab) wrote before config.json


def is_unstarted(path: Path) -> bool:
    """A folder that a first start left before its config.json landed (killed, or a full disk): nothing in it
    but files lab writes before config.json, so it is no run yet and its name may be taken again."""
    try:
        names = [p.name for p in path.iterdir()]
    except OSError:
        return False
    return not path.is_symlink() and all(n in PRE_CONFIG or _is_temp(n) for n in names)


def _is_temp(name: str) -> bool:
    return name.startswith(".") and name.endswith(TMP_SUFFIX)


def create_run_dir(runs_dir: str | Path, name: str, exact: bool = False) -> tuple[Path, "RunLock"]:
    """Make and lock runs_dir/name, or name-2, name-3... if taken: an existing run is never overwritten, a
    symlink never followed. A folder a killed first start left (is_unstarted) is taken again, so that a
    restarted job keeps its name; with `exact` (--resume auto) the name never changes: taken is an error."""
    root = Path(runs_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CheckpointError(f"--runs-dir {root}: cannot create a run folder ({why(e)})") from None
    for i in range(1, 2 if exact else 10_000):
        path = root / (name if i == 1 else f"{name}-{i}")
        try:
            path.mkdir()
        except FileExistsError:
            pass
        except OSError as e:
            raise CheckpointError(f"--runs-dir {root}: cannot create a run folder ({why(e)})") from None
        lock = _take(path, exact)
        if lock is not None:
            remove_temp_files(path)
            return path, lock
    if exact:
        raise CheckpointError(f"{root / name}: exists but is not a run folder of lab (no config.json); "
                              f"move it away or pick another --name")
    raise CheckpointError(f"--runs-dir {root}: too many runs named {name!r}")


def _take(path: Path, exact: bool) -> "RunLock | None":
    # the lock decides between two starts racing for one name; the check after it sees what the winner wrote
    if not is_unstarted(path):
        return None
    try:
        lock = RunLock(path).acquire()
    except CheckpointError:
        if exact:
            raise
        return None
    if is_unstarted(path):
        return lock
    lock.release()
    return None


def check_run_folder(path: Path, root: str | Path | None = None) -> Path:
    """`path` if lab may write in it or delete it: a plain folder, not a symlink, and (given `root`) under
    root with no symlink on the way (a symlinked sweep folder would make a prune delete elsewhere)."""
    path = Path(path)
    steps = [path]
    if root is not None:
        try:
            parts = path.relative_to(root).parts
        except ValueError:
            raise CheckpointError(f"{path}: not under {root}; lab does not write or delete there") from None
        steps = [Path(root).joinpath(*parts[:k]) for k in range(1, len(parts) + 1)]
    if any(p.is_symlink() for p in steps):
        raise CheckpointError(f"{path}: reached through a symlink; lab does not write or delete through it")
    return path


def discard_unstarted(path: Path) -> None:
    """Remove a folder that a failed first start leaves before its config.json (a full disk): no empty shell
    stays behind to be listed as a run."""
    if not is_unstarted(path):
        return
    for p in path.iterdir():
        p.unlink(missing_ok=True)
    try:
        path.rmdir()
    except OSError:
        pass


def default_run_name(source: str, model: str) -> str:
    return f"{source}-{model}-{time.strftime('%Y%m%d-%H%M%S')}"


class MetricsWriter:
    """Appends one row per epoch to metrics.csv and flushes it at once, so `tail -f` can follow."""

    def __init__(self, path: str | Path, keep_epochs: int | None = None, create: bool = True):
        self.path = Path(path)
        if keep_epochs is not None and self.path.exists():  # a resumed run drops rows past its checkpoint
            rows = [r for r in read_metrics(self.path) if r["epoch"] <= keep_epochs]
            self._rewrite(rows)
        elif create and not self.path.exists():
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


MAX_FIELD = 64  # characters: a longer "number" is not one (and csv would choke on megabyte fields)


def read_metrics(path: str | Path, max_rows: int | None = None) -> list[dict]:
    """Rows of a metrics.csv as dicts of numbers. Lines that are not rows of numbers (a half-written last line,
    bad bytes, huge fields) are skipped. With max_rows, a longer file is thinned to evenly spaced rows that keep
    the first and the last, so that a viewer draws millions of epochs without hanging."""
    try:
        with open(path, "rb") as f:
            return parse_metrics(f.read(), max_rows)
    except OSError:
        return []


def parse_metrics(data: bytes, max_rows: int | None = None) -> list[dict]:
    """read_metrics on the bytes of a metrics.csv."""
    body = data.split(b"\n")[1:]
    if max_rows is not None and len(body) > max_rows:
        step = len(body) / max_rows
        picked = sorted({int(i * step) for i in range(max_rows)} | {len(body) - 2, len(body) - 1})
        body = [body[i] for i in picked if i >= 0]
    return [row for row in map(_parse_row, body) if row is not None]


HUGE = 1e15  # a metric beyond this is no measurement, and it would overflow a chart's arithmetic
MAX_SECONDS = 1e9  # an epoch's seconds: about 30 years


def number(value, lo: float = -HUGE, hi: float = HUGE, default=None):
    """THE way to read a number from a run folder (CSV text or bytes, a JSON value): a float in [lo, hi], or
    `default` where it is not a number, or is NaN, inf, or outside the bounds (negative, huge). Never raises."""
    if isinstance(value, bool):
        return default
    if isinstance(value, (bytes, str)):
        if len(value) > MAX_FIELD:
            return default
        try:
            value = float(value)
        except ValueError:
            return default
    if not isinstance(value, (int, float)):
        return default
    try:
        x = float(value)
    except OverflowError:  # an int with hundreds of digits
        return default
    return x if lo <= x <= hi else default  # NaN fails both comparisons


def _parse_row(line: bytes) -> dict | None:
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


class MetricsReader:
    """A metrics.csv followed as it grows: the first read thins the whole file (read_metrics); later reads
    parse only the bytes appended since (at most CHUNK per call, so a flood never blocks a viewer), keeping
    at most max_rows rows by doubling the stride. A file that shrinks or is replaced is read afresh."""

    CHUNK = 4 << 20

    def __init__(self, path: str | Path, max_rows: int = 2000):
        self.path, self.max_rows = Path(path), max_rows
        self.rows: list[dict] = []
        self.offset, self.ident, self.stride, self.count, self.last = 0, None, 1, 0, None

    def read(self) -> list[dict]:
        try:
            st = self.path.stat()
        except OSError:
            self.__init__(self.path, self.max_rows)
            return []
        if self.ident != (st.st_dev, st.st_ino) or st.st_size < self.offset:
            self._first(st)
        elif st.st_size > self.offset:
            self._more()
        rows = list(self.rows)
        if self.last is not None and (not rows or rows[-1] is not self.last):
            rows.append(self.last)  # the newest epoch is always drawn, whatever the stride
        return rows

    def _first(self, st) -> None:
        self.ident = (st.st_dev, st.st_ino)
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except OSError:
            return
        end = data.rfind(b"\n") + 1  # a half-written last line is read again next time
        self.offset = end
        # the bytes read once, up to the last whole line: what _more reads next starts exactly there
        self.rows = parse_metrics(data[:end], self.max_rows) if end else []
        self.count = max(data.count(b"\n", 0, end) - 1, 0)
        self.stride = max(1, -(-self.count // self.max_rows))
        self.last = self.rows[-1] if self.rows else None

    def _more(self) -> None:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read(self.CHUNK)
        except OSError:
            return
        end = data.rfind(b"\n") + 1
        self.offset += end
        for line in data[:end].split(b"\n")[:-1]:
            row = _parse_row(line)
            if row is None:
                continue
            self.count += 1
            self.last = row
            if self.count % self.stride == 0:
                self.rows.append(row)
                if len(self.rows) > self.max_rows:
                    self.rows, self.stride = self.rows[::2], self.stride * 2


def list_runs(runs_dir: str | Path = "runs") -> list[Path]:
    """Run folders (those with a config.json), newest first; the runs of a sweep (a folder with sweep.json)
    are listed too."""
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    runs = []
    for p in root.iterdir():
        if (p / "config.json").is_file():
            runs.append(p)
        elif (p / "sweep.json").is_file():
            runs += [q for q in p.iterdir() if (q / "config.json").is_file()]

    def created(p: Path) -> float:
        try:
            return (p / "config.json").stat().st_mtime
        except OSError:
            return 0.0
    return sorted(runs, key=created, reverse=True)


def resolve_run(ref: str | Path, runs_dir: str | Path = "runs") -> Path:
    """A run folder from a path, a run name under runs_dir, or 'latest'."""
    if str(ref) == "latest":
        runs = list_runs(runs_dir)
        if not runs:
            raise CheckpointError(f"latest: no runs in {runs_dir}/")
        return runs[0]
    path = Path(ref)
    if not path.is_dir() and (Path(runs_dir) / str(ref)).is_dir() and "/" not in str(ref):
        path = Path(runs_dir) / str(ref)
    if not path.is_dir():
        raise CheckpointError(f"{path}: run folder not found")
    if not (path / "config.json").is_file():
        raise CheckpointError(f"{path}: not a run folder (no config.json)")
    return path


def resolve_checkpoint(ref: str | Path, which: str = "best", runs_dir: str | Path = "runs") -> tuple[Path, Path | None]:
    """(checkpoint file, run folder or None) from a run folder, 'latest' or a checkpoint path."""
    path = Path(ref)
    if path.is_file():
        run = path.parent if (path.parent / "config.json").is_file() else None
        return path, run
    run = resolve_run(ref, runs_dir)
    ckpt = run / f"{which}.pt"
    if not ckpt.is_file():
        other = run / ("last.pt" if which == "best" else "best.pt")
        if which == "best" and other.is_file():
            return other, run
        raise CheckpointError(f"{run}: no {which}.pt checkpoint")
    return ckpt, run


class RunLock:
    """An exclusive lock on a run folder while a process trains in it (flock on `.lock`).

    The kernel drops a flock when its process dies, even by kill -9, so a stale lock is taken over by
    the next writer with no clean-up; the file records the holder's pid and host for the error message.
    """

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / LOCK_FILE
        self.fd = None

    def acquire(self) -> "RunLock":
        import fcntl
        try:  # O_NOFOLLOW: a .lock that is a symlink would make lab truncate whatever it points to
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)
        except OSError as e:
            what = f"{self.path.name} is a symlink" if e.errno == errno.ELOOP else why(e)
            raise CheckpointError(f"{self.path.parent}: cannot lock the run folder ({what})") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise CheckpointError(f"{self.path}: not a regular file; lab does not lock through it")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
            os.close(fd)
            who = f"pid {holder[0]} on {holder[1]}" if len(holder) >= 2 else "another process"
            raise CheckpointError(f"{self.path.parent}: run folder is in use by {who}; "
                                  f"wait for it to finish or stop it first") from None
        crash_point()
        try:  # who holds it, for the message above; a full disk may refuse it, and the lock works without
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
        except OSError:
            pass
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock; the file stays (removing it would race a new writer)
            self.fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
