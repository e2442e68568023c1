"""The `lab` command: a thin Typer face over the engine."""

import sys

import typer

from .convert import convert_command
from .data import data_command
from .errors import run_cli
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
    argv = fill_optional_values(sys.argv[1:] if argv is None else list(argv))
    run_cli(app, argv or ["--help"], "lab")
