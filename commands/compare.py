"""`lab compare RUN_OR_SWEEP...`: runs side by side, their curves overlaid, a sweep's metric against its field."""

import json
import math
from pathlib import Path
from typing import List, Optional

import typer

from .completion import run_names
from .errors import fail
from .plots import _finish
from .textviz import percent, table

CURVES = ("train_loss", "train_acc", "val_loss", "val_acc", "lr")
IGNORED = ("name", "runs_dir", "extra", "device", "data_dir", "download")


def expand(targets: list[str], runs_dir: str) -> list:
    """RunInfos of the targets: a sweep folder stands for its runs, in grid order."""
    from engine.runs import RunFolder, read_run, read_sweep, resolve_run
    runs = []
    for t in targets:
        path = Path(t) if Path(t).exists() else Path(runs_dir) / t
        if RunFolder(path).is_sweep():
            names = read_sweep(path)["points"] or sorted(p.name for p in path.iterdir())
            runs += [read_run(path / n) for n in names if RunFolder(path / n).is_run()]
        else:
            runs.append(read_run(resolve_run(t, runs_dir)))
    return runs


def differing(runs) -> list[str]:
    keys = sorted({k for r in runs for k in r.config} - set(IGNORED))
    return [k for k in keys if len({json.dumps(r.config.get(k)) for r in runs}) > 1]


def smooth(values: list[float], alpha: float) -> list[float]:
    """Exponential moving average (alpha 0: none; 0.9: heavy), as TensorBoard's smoothing slider."""
    out, last = [], None
    for v in values:
        last = v if last is None else alpha * last + (1 - alpha) * v
        out.append(last)
    return out


def compare_command(
    targets: List[str] = typer.Argument(..., help="run folders, sweep folders, names under --runs-dir, 'latest'",
                                        autocompletion=run_names),
    metric: str = typer.Option("val_acc", "--metric", help=f"the curve to overlay: {', '.join(CURVES)}"),
    log_y: bool = typer.Option(False, "--log-y", help="logarithmic y axis"),
    smoothing: float = typer.Option(0.0, "--smooth", help="EMA smoothing of the curves, 0 (none) to 0.99"),
    json_out: bool = typer.Option(False, "--json", help="print the comparison as JSON"),
    png: Optional[Path] = typer.Option(None, "--png", help="also save the plots as PNG files here (needs lab[plots])"),
    runs_dir: str = typer.Option("runs", "--runs-dir", help="where names and 'latest' are looked up"),
):
    """Runs side by side: the config fields that differ, best and final metrics, epochs, time; curves overlaid."""
    if metric not in CURVES:
        fail(f"--metric: expected one of {', '.join(CURVES)}, got {metric!r}")
    if not 0 <= smoothing < 1:
        fail(f"--smooth: expected a number in [0, 1), got {smoothing}")
    from .png import check_png_folder
    check_png_folder(png)
    runs = expand(targets, runs_dir)
    if log_y:
        _check_log_y(runs, metric)
    diff = differing(runs)
    rows = [{"run": r.name, "path": str(r.path), **{k: r.config.get(k) for k in diff}, **r.summary()}
            for r in runs]
    if json_out:
        print(json.dumps({"differing": diff, "runs": rows,
                          "curves": {r.name: {"epoch": r.column("epoch"), metric: r.column(metric)} for r in runs}},
                         indent=2))
        return
    # values as flags take them, an unset field as what was in force (the model's default, 'off', 'auto')
    from engine.config import flag_value
    cells = [[flag_value(k, r.config.get(k), r.config) for k in diff] for r in runs]
    print(table([[d["run"], *cell, d["status"], percent(d["best_val_acc"]),
                  percent(d["final_val_acc"]), percent(d["test_acc"]), d["epochs"], f"{d['seconds']:.1f}s"]
                 for d, cell in zip(rows, cells)],
                ["run", *diff, "status", "best val", "final val", "test", "epochs", "time"],
                keep=[0, len(diff) + 2, *range(1, len(diff) + 1), len(diff) + 4, len(diff) + 1, len(diff) + 3]))
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


def _points(run, metric: str) -> list[tuple]:
    """(epoch, value) of a run's finite values: a NaN row (a diverged epoch) is left out of the plot."""
    return [(e, v) for e, v in zip(run.column("epoch"), run.column(metric))
            if isinstance(v, (int, float)) and math.isfinite(v)]


def _check_log_y(runs, metric: str) -> None:
    for r in runs:
        low = [v for _, v in _points(r, metric) if v <= 0]
        if low:
            fail(f"--log-y: run {r.name} has {metric} values <= 0 (e.g. {low[0]:g}); a log axis needs positive "
                 f"values")


def _text(v) -> str:
    return ",".join(map(str, v)) if isinstance(v, list) else str(v)


def _scaled(values, metric):
    return [100 * v for v in values] if metric.endswith("_acc") else values


def overlay(runs, metric: str, log_y: bool, alpha: float) -> str:
    """Every run's curve on one terminal plot (its own marker and colour, legend above, integer epochs)."""
    from .plots import _start, plot_series
    plt = _start()
    epochs, names = [], []
    for r in runs:
        points = _points(r, metric)
        if points:
            x, ys = [p[0] for p in points], [p[1] for p in points]
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
    from engine.runs.sweep import numeric_axis
    from .plots import _start
    if len(diff) != 1 or len(runs) < 2:
        return None
    field = diff[0]
    values = [r.config.get(field) for r in runs]
    axis = numeric_axis(values)
    finals = [r.rows[-1].get(metric) if r.rows else None for r in runs]
    if axis is None or any(v is None for v in finals):
        return None
    xs, log = axis
    plt = _start()
    points = sorted(zip(xs, _scaled(finals, metric), values))
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
