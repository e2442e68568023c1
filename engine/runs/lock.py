"""Taking a run folder: making it under a free name, locking it, and refusing symlinks on the way."""

from __future__ import annotations

import errno
import os
import socket
import stat
from pathlib import Path
from typing import NamedTuple

from lab_workbench.engine.core.errors import CheckpointError
from lab_workbench.engine.core.files import TMP_SUFFIX, crash_point, remove_temp_files, why
from lab_workbench.engine.runs.names import CONFIG, LOCK, PRE_CONFIG


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
        raise CheckpointError(f"{root / name}: exists but is not a run folder of lab (no {CONFIG}); "
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


class RunLock:
    """An exclusive lock on a run folder while a process trains in it (flock on `.lock`).

    The kernel drops a flock when its process dies, even by kill -9, so a stale lock is taken over by
    the next writer with no clean-up; the file records the holder's pid and host for the error message.
    """

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / LOCK
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
            holder = parse_holder(os.pread(fd, 200, 0).decode("utf-8", "replace"))
            os.close(fd)
            who = f"pid {holder.pid} on {holder.host}" if holder else "another process"
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


class LockHolder(NamedTuple):
    """Who holds a run folder's lock, as its .lock records it."""
    pid: int
    host: str


def parse_holder(text: str) -> LockHolder | None:
    """The holder a .lock's text records ('1234 host'), or None when it records no such thing: the one
    reading of the record, for the "in use by" message and for telling a live run from a dead one."""
    words = text.split()
    if len(words) != 2 or not (words[0].isascii() and words[0].isdigit()):
        return None  # int() accepts some of what isdigit() accepts ('²'), and the record is two words
    pid = int(words[0])
    # 0 or a negative number names a process group to os.kill, and one beyond a C int is an OverflowError
    return LockHolder(pid, words[1]) if 0 < pid < 2**31 else None


def read_holder(lock: str | Path) -> LockHolder | None:
    """The holder a .lock file records, or None (no file, unreadable, a symlink, or no valid record); never
    blocks on a fifo put in its place."""
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        return parse_holder(os.read(fd, 200).decode("utf-8", "replace"))
    except OSError:
        return None
    finally:
        os.close(fd)
