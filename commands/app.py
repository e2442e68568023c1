"""The `lab` command: a thin Typer face over the engine."""

import sys

import typer

from .compare import compare_command
from .convert import convert_command
from .data import data_command
from .errors import _exit_with, run_cli
from .eval import eval_command
from .export import export_command
from .inspect import OPTIONAL_VALUE, inspect_command
from .lr_find import lr_find_command
from .predict import predict_command
from .models import models_command
from .options import SectionedCommand
from .runs import runs_command
from .sweep import sweep_command
from .train import train_command

EXAMPLES = {
    "train": ["lab train --dataset fashion --dropout 0.4",
              "lab train --dataset mnist --model cnn -K 32,64 --epochs 5",
              "lab train --name exp1 --resume auto --time-limit 3h50m    # a cluster job"],
    "eval": ["lab eval latest", "lab eval runs/NAME --splits train,val,test", "lab eval runs/NAME --json | jq .accuracy"],
    "convert": ["lab convert ../shared/data/mnist data/mnist.h5", "lab convert photos/ data/pets.h5 --size 64x64"],
    "data": ["lab data data/mnist.h5", "lab data ../shared/data/mnist"],
    "inspect-weights": ["lab inspect-weights latest", "lab inspect-weights runs/l2 --compare runs/plain --hist"],
    "export": ["lab export latest --format onnx", "lab export runs/NAME --format safetensors --out model.safetensors"],
    "models": ["lab models"],
    "lr-find": ["lab lr-find --dataset mnist --model mlp --optimizer adam",
                "lab lr-find --model cnn --optimizer sgd --json | jq .suggestion"],
    "predict": ["lab predict latest photo.png", "lab predict runs/NAME digits/ --top 3 --csv predictions.csv",
                "lab predict model.onnx scans.h5 --json"],
    "sweep": ["lab sweep l2 --grid l2=0,1e-4,1e-3,1e-2 --model logistic --dataset mnist --jobs 2",
              "lab sweep cnn --grid channels='32;64;32,64' --grid dropout=0,0.4 --model cnn --epochs 5",
              "lab sweep l2 --resume ...    # after an interruption: finished points are skipped",
              "lab sweep l2 --grid l2=0,1e-4 --slurm -j 2   # a Slurm job array; lab sweep l2 --status",
              "lab sweep tune --search tpe --trials 16 --param lr=log:1e-4..1e-1 --prune-trials median"],
    "compare": ["lab compare runs/l2                  # a sweep: its runs, and val_acc against l2",
                "lab compare runs/a runs/b --metric val_loss --log-y --smooth 0.6",
                "lab compare runs/l2 --json | jq .differing"],
    "runs": ["lab runs", "lab runs --where model=cnn --sort best", "lab runs --status dead --prune --yes"],
}


def _epilog(name: str) -> str:
    # \b keeps click from re-wrapping the lines
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in EXAMPLES[name])


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version
        try:
            print(f"lab {version('lab-workbench')}")
        except PackageNotFoundError:
            print("lab (not installed)")
        raise typer.Exit()


app = typer.Typer(name="lab", help="lab: train, evaluate, inspect and export image classifiers.",
                  no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", help="print the version and exit", is_eager=True,
                                       callback=_version)):
    """lab: train, evaluate, inspect and export image classifiers."""


for _name, _fn in [("train", train_command), ("eval", eval_command), ("convert", convert_command),
                   ("data", data_command), ("inspect-weights", inspect_command), ("export", export_command),
                   ("models", models_command), ("runs", runs_command), ("sweep", sweep_command),
                   ("compare", compare_command), ("predict", predict_command), ("lr-find", lr_find_command)]:
    app.command(_name, epilog=_epilog(_name), context_settings={"max_content_width": 100},
                cls=SectionedCommand)(_fn)


def fill_optional_values(argv: list[str]) -> list[str]:
    """`--hist` alone means `--hist all` (and likewise --filters): click has no optional option values."""
    out = []
    for i, arg in enumerate(argv):
        out.append(arg)
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if arg in OPTIONAL_VALUE and (nxt is None or nxt.startswith("-")):
            out.append(OPTIONAL_VALUE[arg])
    return out


def load_plugins() -> None:
    """The user's plugins ($LAB_PLUGINS, `lab.plugins` entry points) register their models and data sets
    before any command (or --help) reads the registries; a plugin that fails is one error line, and so is a
    LAB_CRASH_AT_WRITE (the crash tests' hook) that is not a number."""
    from lab_workbench.engine.core.errors import LabError
    from lab_workbench.engine.core.files import crash_target
    from lab_workbench.engine.core.registry import load_plugins as load
    try:
        crash_target()  # the environment is checked with the flags, before any work
        load()
    except LabError as e:
        _exit_with(str(e))  # before run_cli: one line and exit code 2 by hand


def _outlive_hangups() -> None:
    """A headless run outlives its terminal (commands/signals.py) from the process's start, not only once
    torch is imported and training begins: a hangup in the first seconds no longer kills it."""
    import signal

    from lab_workbench.engine.runtime import detach_from_terminal
    signal.signal(signal.SIGHUP, lambda signum, frame: detach_from_terminal())


def _tolerant_streams() -> None:
    """A character the terminal's encoding lacks (PYTHONIOENCODING=ascii, a run named café) is written as
    \xe9 instead of failing the command with UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):  # not a text stream of the interpreter's own
            pass


def main(argv=None) -> None:
    """Entry point: run the app, turning bad input into one line on stderr and exit code 2."""
    exiting = argv is None  # the process ends with this call (tests call main in-process with argv)
    argv = fill_optional_values(sys.argv[1:] if argv is None else list(argv))
    if exiting:
        _tolerant_streams()
    if exiting and argv[:1] == ["train"]:
        _outlive_hangups()
    try:
        load_plugins()
        run_cli(app, argv or ["--help"], "lab")
    finally:
        if exiting:
            # the interpreter's exit runs a collection over every object torch and its compiler stack made
            # (about a third of a run's time outside training on 2 cores, bench/time_to_result.py); frozen
            # objects are skipped, and every file is written and closed by now
            import gc
            gc.freeze()
