"""`lab lr-find [lab train flags]`: the learning-rate range test, its curve, and the `lab train` line to use."""

import json
import math
import shlex

import typer

from lab_workbench.engine.core.errors import ConfigError

from .common import json_option
from .options import config_from_options, options_given, with_train_options

Json = json_option("print the curve and the suggestions as JSON")


@with_train_options
def lr_find_command(
    start: float = typer.Option(1e-7, "--start", help="the first learning rate"),
    end: float = typer.Option(10.0, "--end", help="the last learning rate (the test stops earlier when the loss "
                                                  "explodes)"),
    steps: int = typer.Option(200, "--steps", help="optimizer steps, the lr growing exponentially"),
    json_out: Json = False,
    **options,
):
    """Find a learning rate: train a copy of the model with a growing lr and read the loss curve (no run
    folder is written or read)."""
    given = options_given(options)
    cfg = config_from_options(options)
    check_range(start, end, steps)
    from lab_workbench.engine.training.lr_find import lr_find  # after every flag is checked: a bad flag costs no torch

    from .signals import StopFlag

    with StopFlag(None) as stop:
        result = lr_find(cfg, start=start, end=end, steps=steps, should_stop=stop)
    line = train_line({**given, "lr": f"{result.suggestion:.2g}"})
    if json_out:
        print(json.dumps({**result.to_dict(), "command": line}, indent=2))
        if stop.reason:
            raise typer.Exit(stop.exit_code())
        return
    from .plots import line_chart
    print(line_chart({"loss (smoothed)": result.smoothed}, title="loss against learning rate (log x)",
                     x=result.lrs, log_x=True, height=16))
    ended = {"exploded": "the loss exploded",
             "cancelled": f"interrupted after {len(result.lrs)} steps: a partial curve, a rough suggestion"
             }.get(result.stopped, f"{len(result.lrs)} steps")
    print(f"\n{cfg.model} on {cfg.source}, {cfg.optimizer}, batch {cfg.batch_size}: lr {result.lrs[0]:.1e} .. "
          f"{result.lrs[-1]:.1e} ({ended})")
    if result.steepest is not None:
        print(f"steepest descent of the smoothed loss: lr {result.steepest:.2g}")
    print(f"minimum of the smoothed loss:          lr {result.minimum:.2g}  (/10 = {result.minimum / 10:.2g})")
    print(f"\nsuggested: {line}")
    if stop.reason:  # Ctrl-C or SIGTERM: the curve so far was shown; the exit status says it was cut short
        raise typer.Exit(stop.exit_code())


def check_range(start: float, end: float, steps: int) -> None:
    """--start, --end and --steps as the range test takes them (engine.training.lr_find checks them too,
    after torch is imported; here they are refused before)."""
    if not (0 < start < end) or not math.isfinite(end):
        raise ConfigError(f"--start/--end: expected 0 < start < end, got {start:g} and {end:g}")
    if steps < 10:
        raise ConfigError(f"--steps: expected at least 10, got {steps}")


def train_line(values: dict) -> str:
    """The `lab train` command for these field values, shell-quoted."""
    from lab_workbench.engine.settings.config import SETTINGS_BY_NAME
    parts = ["lab", "train"]
    for name, value in values.items():
        s = SETTINGS_BY_NAME[name]
        if s.kind == "bool":
            parts.append(s.flag if value else "--no-" + s.flag[2:])
            continue
        parts += [s.flag, ",".join(map(str, value)) if isinstance(value, list) else str(value)]
    return shlex.join(parts)
