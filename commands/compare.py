"""`lab compare RUN_OR_SWEEP...`: runs side by side, their curves overlaid, a sweep's metric against its field."""

import json
from pathlib import Path
from typing import List

import typer

from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.core.units import percent

from .common import json_option, png_option, runs_dir_option
from .completion import run_names
from .plots import _finish
from .textviz import table

CURVES = ("train_loss", "train_acc", "val_loss", "val_acc", "lr")
Json = json_option("print the comparison as JSON")
Png = png_option("also save the plots as PNG files here (needs lab-workbench[plots])")
RunsDir = runs_dir_option("where names and 'latest' are looked up")


def expand(targets: list[str], runs_dir: str) -> list:
    """RunInfos of the targets: a sweep folder stands for its runs, in grid order."""
    from lab_workbench.engine.runs import RunFolder, read_run, read_sweep, resolve_run
    runs = []
    for t in targets:
        path = Path(t) if Path(t).exists() else Path(runs_dir) / t
        if RunFolder(path).is_sweep():
            names = read_sweep(path)["points"] or sorted(p.name for p in path.iterdir())
            runs += [read_run(path / n) for n in names if RunFolder(path / n).is_run()]
        else:
            runs.append(read_run(resolve_run(t, runs_dir)))
    return runs


def compare_command(
    targets: List[str] = typer.Argument(..., help="run folders, sweep folders, names under --runs-dir, 'latest'",
                                        autocompletion=run_names),
    metric: str = typer.Option("val_acc", "--metric", help=f"the curve to overlay: {', '.join(CURVES)}"),
    log_y: bool = typer.Option(False, "--log-y", help="logarithmic y axis"),
    smoothing: float = typer.Option(0.0, "--smooth", help="EMA smoothing of the curves, 0 (none) to 0.99"),
    json_out: Json = False,
    png: Png = None,
    runs_dir: RunsDir = "runs",
):
    """Runs side by side: the config fields that differ, best and final metrics, epochs, time; curves overlaid."""
    from lab_workbench.engine.runs import differing
    if metric not in CURVES:
        raise ConfigError(f"--metric: expected one of {', '.join(CURVES)}, got {metric!r}")
    if not 0 <= smoothing < 1:
        raise ConfigError(f"--smooth: expected a number in [0, 1), got {smoothing}")
    runs = expand(targets, runs_dir)
    if log_y:
        _check_log_y(runs, metric)
    diff = differing([r.config for r in runs])
    rows = [{"run": r.name, "path": str(r.path), **{k: r.config.get(k) for k in diff}, **r.summary()}
            for r in runs]
    if json_out:
        print(json.dumps({"differing": diff, "runs": rows,
                          "curves": {r.name: {"epoch": r.column("epoch"), metric: r.column(metric)} for r in runs}},
                         indent=2))
        return
    _print_table(runs, rows, diff)
    print()
    print(overlay(runs, metric, log_y, smoothing))
    sweep_plot = by_field(runs, diff, metric)
    if sweep_plot:
        print()
        print(sweep_plot)
    if png is not None:
        from .png import save_compare
        files = save_compare(runs, diff, metric, log_y, smoothing, png)
        print(f"\nwrote {len(files)} PNG files to {png}")


def _print_table(runs, rows: list[dict], diff: list[str]) -> None:
    # values as flags take them, an unset field as what was in force (the model's default, 'off', 'auto')
    from lab_workbench.engine.settings.config import flag_value
    cells = [[flag_value(k, r.config.get(k), r.config) for k in diff] for r in runs]
    print(table([[d["run"], *cell, d["status"], percent(d["best_val_acc"]),
                  percent(d["final_val_acc"]), percent(d["test_acc"]), d["epochs"], f"{d['seconds']:.1f}s"]
                 for d, cell in zip(rows, cells)],
                ["run", *diff, "status", "best val", "final val", "test", "epochs", "time"],
                keep=[0, len(diff) + 2, *range(1, len(diff) + 1), len(diff) + 4, len(diff) + 1, len(diff) + 3]))


def _check_log_y(runs, metric: str) -> None:
    from lab_workbench.engine.runs import points
    for r in runs:
        low = [v for v in points(r.rows, metric)[1] if v <= 0]
        if low:
            raise ConfigError(f"--log-y: run {r.name} has {metric} values <= 0 (e.g. {low[0]:g}); a log axis "
                              f"needs positive values")


def _text(v) -> str:
    return ",".join(map(str, v)) if isinstance(v, list) else str(v)


def _scaled(values, metric):
    return [100 * v for v in values] if metric.endswith("_acc") else values


def overlay(runs, metric: str, log_y: bool, alpha: float) -> str:
    """Every run's curve on one terminal plot (its own marker and colour, legend above, integer epochs)."""
    from lab_workbench.engine.runs import points, smooth
    from .plots import _start, plot_series
    plt = _start()
    epochs, names = [], []
    for r in runs:
        x, ys = points(r.rows, metric)
        if x:
            plot_series(plt, len(names), x, smooth(_scaled(ys, metric), alpha))
            names.append(r.name)
            epochs = max(epochs, x, key=len)
    if log_y:
        plt.yscale("log")
    if epochs:
        plt.xticks(epochs[::max(1, -(-len(epochs) // 10))])
    unit = " (%)" if metric.endswith("_acc") else ""
    return _finish(plt, f"{metric}{unit} per epoch" + (f", smoothed {alpha:g}" if alpha else ""), None, 16, names)


def by_field(runs, diff: list[str], metric: str) -> str | None:
    """For runs that differ in one numeric field (an L2 sweep): the final metric against that field, each
    point labelled with its value; on a log axis a 0 is drawn a decade below the smallest value, and says so."""
    from lab_workbench.engine.runs import final_against_field
    from .plots import _start
    if len(diff) != 1 or len(runs) < 2:
        return None
    field = diff[0]
    finals = [r.rows[-1].get(metric) if r.rows else None for r in runs]
    curve = final_against_field([r.config for r in runs], finals, field)
    if curve is None:
        return None
    pairs, log = curve
    points = [(x, _scaled([y], metric)[0], value) for x, y, value in pairs]
    plt = _start()
    plt.plot([p[0] for p in points], [p[1] for p in points], marker="braille", color="blue+")
    plt.scatter([p[0] for p in points], [p[1] for p in points], marker="o", color="red+")
    if log:
        plt.xscale("log")
    plt.xticks([p[0] for p in points], [_text(p[2]) for p in points])  # the values as given, 0 as 0
    chart = _finish(plt, f"final {metric} against {field}" + (" (log x)" if log else ""), None, 14)
    zero = [p[0] for p in points if p[2] == 0]
    if log and zero:
        chart += f"\n{field}=0 is drawn at {zero[0]:.3g}, a decade below the smallest value (a log axis has no 0)"
    return chart
