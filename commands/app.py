"""The `lab` command: a thin Typer face over the engine."""

import sys

import typer

try:  # typer >= 0.20 vendors click
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover
    from click import ClickException

from .convert import convert_command
from .data import data_command
from .errors import EXIT_BAD_INPUT
from .eval import eval_command
from .export import export_command
from .inspect import OPTIONAL_VALUE, inspect_command
from .models import models_command
from .train import train_command

app = typer.Typer(name="lab", help="lab: train, evaluate, inspect and export image classifiers.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.command("train", context_settings={"max_content_width": 100})(train_command)
app.command("eval")(eval_command)
app.command("convert")(convert_command)
app.command("data")(data_command)
app.command("inspect-weights")(inspect_command)
app.command("export")(export_command)
app.command("models")(models_command)


def fill_optional_values(argv: list[str]) -> list[str]:
    """`--hist` alone means `--hist all` (and likewise --filters): click has no optional option values."""
    out = []
    for i, arg in enumerate(argv):
        out.append(arg)
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if arg in OPTIONAL_VALUE and (nxt is None or nxt.startswith("-")):
            out.append(OPTIONAL_VALUE[arg])
    return out


def main(argv=None) -> None:
    """Entry point: run the app, turning bad input into one line on stderr and exit code 2."""
    from engine.errors import LabError

    argv = fill_optional_values(sys.argv[1:] if argv is None else list(argv))
    try:
        rc = app(args=argv or ["--help"], standalone_mode=False, prog_name="lab")
    except typer.Exit as e:
        raise SystemExit(e.exit_code) from None
    except typer.Abort:
        sys.stderr.write("aborted\n")
        raise SystemExit(130) from None
    except ClickException as e:
        sys.stderr.write(f"error: {e.format_message()}\n")
        raise SystemExit(EXIT_BAD_INPUT) from None
    except LabError as e:
        sys.stderr.write(f"error: {e}\n")
        raise SystemExit(EXIT_BAD_INPUT) from None
    except BrokenPipeError:
        raise SystemExit(0) from None
    if isinstance(rc, int) and rc:
        raise SystemExit(rc)
