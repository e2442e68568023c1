"""One error path for the faces. Bad input is a LabError (ConfigError naming the flag or file), raised
anywhere: run_cli turns it, and click's usage errors, into one `error:` line on stderr and exit code 2.
A failure that is not bad input (a diverged run, points that did not complete) goes through `failed`."""

import sys

import typer

try:  # typer >= 0.20 vendors click
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover
    from click import ClickException

EXIT_BAD_INPUT = 2


def _exit_with(message: str, code: int = EXIT_BAD_INPUT) -> "NoReturn":  # noqa: F821
    sys.stderr.write(f"error: {message}\n")
    raise SystemExit(code)


def failed(message: str, code: int = 1) -> "NoReturn":  # noqa: F821
    """A command that ran but did not succeed (not bad input): `error: message` on stderr, exit `code`."""
    sys.stderr.write(f"error: {message}\n")
    raise typer.Exit(code)


class StdoutError(OSError):
    """Writing to standard output failed (`> /dev/full`, a full disk): not a bug, one error line."""


class StdoutClosed(Exception):
    """The reader of standard output went away (`lab models | head`): not an error. Not an OSError, so that
    click does not turn it into exit code 1 on the way."""


class _GuardedStdout:
    """sys.stdout, with its write failures raised as StdoutError (what print() raises names no file)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._guard(self._stream.write, text)

    def flush(self):
        return self._guard(self._stream.flush)

    def _guard(self, fn, *args):
        try:
            return fn(*args)
        except BrokenPipeError:
            raise StdoutClosed() from None
        except OSError as e:
            raise StdoutError(e.errno, e.strerror or str(e)) from None

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _silence_stdout() -> None:
    """Point the failed stdout at /dev/null: the interpreter's own flush at exit adds no second message."""
    import os
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (captured in tests)
        pass


def run_cli(app: typer.Typer, argv: list[str], prog_name: str, guard_stdout: bool = True) -> None:
    """Run a Typer app: bad input (usage errors, LabError) becomes one `error:` line and exit code 2, and
    so does a stdout that refuses the output (guard_stdout; the TUI draws on the terminal itself)."""
    from lab_workbench.engine.core.errors import LabError

    stdout = sys.stdout
    if guard_stdout:
        sys.stdout = _GuardedStdout(stdout)
    try:
        rc = app(args=argv, standalone_mode=False, prog_name=prog_name)
        sys.stdout.flush()
    except typer.Exit as e:
        raise SystemExit(e.exit_code) from None
    except typer.Abort:
        sys.stderr.write("aborted\n")
        raise SystemExit(130) from None
    except (ClickException, LabError) as e:
        message = e.format_message() if isinstance(e, ClickException) else str(e)
        _exit_with(message)
    except (BrokenPipeError, StdoutClosed):
        sys.stdout = stdout
        _silence_stdout()
        raise SystemExit(0) from None
    except StdoutError as e:
        sys.stdout = stdout
        _silence_stdout()
        _exit_with(f"cannot write to standard output ({e.strerror})")
    finally:
        sys.stdout = stdout
    if isinstance(rc, int) and rc:
        raise SystemExit(rc)
