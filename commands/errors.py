"""Turn LabErrors and usage errors into one line on stderr and exit code 2."""

import sys

import typer

try:  # typer >= 0.20 vendors click
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover
    from click import ClickException

EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> "NoReturn":  # noqa: F821
    """Print `error: message` on stderr and exit."""
    sys.stderr.write(f"error: {message}\n")
    raise SystemExit(code)


def run_cli(app: typer.Typer, argv: list[str], prog_name: str) -> None:
    """Run a Typer app: bad input (usage errors, LabError) becomes one `error:` line and exit code 2."""
    from engine.errors import LabError

    try:
        rc = app(args=argv, standalone_mode=False, prog_name=prog_name)
    except typer.Exit as e:
        raise SystemExit(e.exit_code) from None
    except typer.Abort:
        sys.stderr.write("aborted\n")
        raise SystemExit(130) from None
    except (ClickException, LabError) as e:
        message = e.format_message() if isinstance(e, ClickException) else str(e)
        fail(message)
    except BrokenPipeError:
        raise SystemExit(0) from None
    if isinstance(rc, int) and rc:
        raise SystemExit(rc)
