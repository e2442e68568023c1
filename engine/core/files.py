"""Crash-safe file writes and tolerant JSON reads, shared by the run folder, evaluation and export."""

from __future__ import annotations

import errno
import json
import math
import os
import secrets
import select
import stat
from contextlib import contextmanager
from pathlib import Path

from lab_workbench.engine.core.errors import CheckpointError, ConfigError

TMP_SUFFIX = ".tmp"
JSON_LIMIT = 64 << 20  # a run's JSON files: a confusion matrix of 1,000 classes takes a few MB
PIPE_WAIT = 10.0  # seconds a named pipe the user gave may take to send its first bytes
CRASH_ENV = "LAB_CRASH_AT_WRITE"  # fault injection for the crash tests: os._exit at the Nth write step
_steps = [0]


def crash_target() -> int | None:
    """LAB_CRASH_AT_WRITE as a step number (None: unset); a ConfigError naming it when it is not one. The faces
    check it as they start, so that a typo is one line, not a traceback at the first save."""
    target = os.environ.get(CRASH_ENV)
    if not target:
        return None
    try:
        return int(target)
    except ValueError:
        raise ConfigError(f"{CRASH_ENV}: expected a write step number (fault injection for tests), "
                          f"got {target!r}") from None


def crash_point() -> None:
    """One write step of the run folder; with LAB_CRASH_AT_WRITE=N the process dies (os._exit) at step N,
    so that a test can kill a run at every step of a save, not only at random moments."""
    target = crash_target()
    if target is None:
        return
    _steps[0] += 1
    if _steps[0] == target:
        os._exit(137)


def why(e: OSError) -> str:
    """A short reason for an OSError; a full disk is named as such."""
    if e.errno == errno.ENOSPC:
        return "No space left on device"  # as strerror says it, whatever the locale
    return str(e.strerror or e)


def check_target(path: str | Path, what: str = "") -> None:
    """Refuse to replace anything but a regular file: a symlink, a device node, a folder or a fifo at
    `path` is never renamed over (as root, that would replace /dev/full with a file)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as e:
        raise CheckpointError(f"{what or path}: cannot write ({why(e)})") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a symlink" if stat.S_ISLNK(st.st_mode) else "a folder" if stat.S_ISDIR(st.st_mode) else \
            "not a regular file"
        raise CheckpointError(f"{what or path}: refusing to replace it ({kind}); lab only replaces regular "
                              f"files it could have written")


def replace_into(tmp: str | Path, path: str | Path, steps: bool = True) -> None:
    """os.replace(tmp, path) after check_target(path): the one rename every writer of lab uses. `steps`:
    a crash test may kill just before and just after it (not for heartbeats that nothing depends on)."""
    check_target(path)
    if steps:
        crash_point()
    os.replace(tmp, path)
    if steps:
        crash_point()


def safe_folder(folder: str | Path, what: str = "") -> Path:
    """`folder`, made if missing, refused if it is a symlink or not a folder: a run folder's eval/ or export/
    that links elsewhere would write outside the run."""
    folder = Path(folder)
    try:
        folder.mkdir(exist_ok=True)
    except FileExistsError:
        pass
    except OSError as e:
        raise CheckpointError(f"{what or folder}: cannot create the folder ({why(e)})") from None
    if folder.is_symlink() or not folder.is_dir():
        raise CheckpointError(f"{what or folder}: expected a plain folder, found "
                              f"{'a symlink' if folder.is_symlink() else 'a file'}; lab does not write through it")
    return folder


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # some file systems do not open folders; the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def create_temp(path: str | Path) -> Path:
    """A new empty temp file beside `path`, mode 0666 less the umask (mkstemp's 0600 would hide the result
    from the other users of a shared folder)."""
    path = Path(path)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}{TMP_SUFFIX}"
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    return tmp


@contextmanager
def _temp_beside(path: Path, what: str = ""):
    """A new temp file in `path`'s folder, removed if the block fails; an OSError (a full disk, a read-only
    folder) becomes one CheckpointError line saying that the earlier file is kept (with `what`, e.g.
    "checkpoint", the line names it and the file kept)."""
    check_target(path)
    try:
        tmp = create_temp(path)
    except OSError as e:
        raise _write_error(path, e, what, started=False) from None
    try:
        yield tmp
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise _write_error(path, e, what, started=True) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_error(path: Path, e: OSError, what: str, started: bool) -> CheckpointError:
    """The one line of a failed write; `what` ("checkpoint") names the file and says the previous one is kept."""
    if what:
        return CheckpointError(f"{path}: cannot write {what} ({why(e)}); the previous {path.name} is kept")
    if not started:
        return CheckpointError(f"{path}: cannot write in {path.parent} ({why(e)})")
    return CheckpointError(f"{path}: cannot write ({why(e)}); the earlier file is kept")


def atomic_write(path: str | Path, write, durable: bool = True, what: str = "") -> None:
    """Call write(tmp_path) on a temp file in the target's folder, fsync it, rename it over the target and
    fsync the folder. A crash at any moment leaves either the old or the new file, never a partial one.
    `what` names the file in the one-line error of a failed write ("checkpoint").

    The temp file is created with mode 0666 less the umask, so the result has the permissions any other
    new file would (mkstemp's 0600 would hide runs from the other users of a shared folder).
    """
    path = Path(path)
    with _temp_beside(path, what) as tmp:
        if durable:
            crash_point()
        write(tmp)
        if durable:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        replace_into(tmp, path, steps=durable)
        if durable:
            _fsync_dir(path.parent)


@contextmanager
def atomic_open(path: str | Path, newline: str | None = ""):
    """open(path, "w") as a with-block that writes a temp file and renames it over `path` at the end: for
    code that writes a file line by line (a crash or an error leaves the earlier file)."""
    path = Path(path)
    with _temp_beside(path) as tmp:
        with open(tmp, "w", newline=newline, encoding="utf-8") as f:
            yield f
        replace_into(tmp, path)


def remove_temp_files(folder: str | Path) -> list[Path]:
    """Delete the temp files a crashed writer left in a folder; returns what was removed."""
    removed = []
    for p in Path(folder).glob(f".*{TMP_SUFFIX}"):
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


def _kind(mode: int) -> str:
    return ("a named pipe" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a folder" if stat.S_ISDIR(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")


def read_limited(path: str | Path, limit: int, what: str = "", pipe_ok: bool = False,
                 error: type[Exception] = CheckpointError) -> bytes:
    """The bytes of `path`, refused (an `error` naming `what` or the path) when larger than `limit` or not a
    regular file: a device (/dev/zero, or a link to it) would be read until memory runs out, a named pipe
    with no writer would block forever. pipe_ok: a pipe the user named (--config <(...)) is read, and
    refused when no byte or end comes within PIPE_WAIT seconds. The file is opened without blocking and
    checked by its descriptor, so a file swapped after a check is never read."""
    name = what or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise error(f"{name}: cannot read ({why(e)})") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISFIFO(mode) and pipe_ok:
            data = _read_pipe(fd, limit, name, error)
        elif not stat.S_ISREG(mode):
            raise error(f"{name}: {_kind(mode)}, not a regular file; lab reads only regular files here")
        else:
            os.set_blocking(fd, True)
            data = _read_up_to(fd, limit + 1)
    except OSError as e:
        raise error(f"{name}: cannot read ({why(e)})") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        from lab_workbench.engine.core.units import format_bytes
        raise error(f"{name}: larger than {format_bytes(limit)}, more than such a file ever holds; refusing to read it")
    return data


def open_regular(path: str | Path, what: str = "", error: type[Exception] = CheckpointError):
    """open(path, "rb") for a regular file only (see read_limited), for readers that seek or read in parts."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise error(f"{what or path}: cannot read ({why(e)})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise error(f"{what or path}: {_kind(mode)}, not a regular file; lab reads only regular files here")
    os.set_blocking(fd, True)
    return open(fd, "rb")


def _read_up_to(fd: int, n: int) -> bytes:
    parts, left = [], n
    while left > 0:
        block = os.read(fd, min(left, 1 << 20))
        if not block:
            break
        parts.append(block)
        left -= len(block)
    return b"".join(parts)


def _read_pipe(fd: int, limit: int, name: str, error) -> bytes:
    """A named pipe's bytes up to its end (or limit + 1); an error when it is silent for PIPE_WAIT seconds."""
    parts, got = [], 0
    while got <= limit:
        ready, _, _ = select.select([fd], [], [], PIPE_WAIT)
        if not ready:
            raise error(f"{name}: a named pipe that sent nothing for {PIPE_WAIT:g} s; lab does not wait on it")
        try:
            block = os.read(fd, 1 << 16)
        except BlockingIOError:
            continue
        if not block:
            break
        parts.append(block)
        got += len(block)
    return b"".join(parts)


def _clean(obj):
    # JSON has no NaN/inf; write them as null so every reader can parse the file
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def write_json(path: str | Path, data, durable: bool = True) -> None:
    """Write JSON atomically (readers such as `labtui --watch` never see half a file)."""
    text = json.dumps(_clean(data), indent=2)
    try:
        atomic_write(path, lambda tmp: Path(tmp).write_text(text + "\n"), durable=durable)
    except OSError as e:
        raise CheckpointError(f"{path}: cannot write ({why(e)})") from None


def read_json(path: str | Path, limit: int = JSON_LIMIT) -> dict:
    """A JSON object from a file; CheckpointError naming the file if missing, unreadable, not a regular file,
    larger than `limit` or not an object."""
    try:
        data = json.loads(read_limited(path, limit).decode("utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: not found") from None
    except (OSError, ValueError, RecursionError) as e:  # RecursionError: nested thousands deep
        raise CheckpointError(f"{path}: not valid JSON ({str(e)[:120]})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data
