"""`lab inspect-weights`: statistics, histograms, comparisons, filters and feature maps of a model."""

import json
from pathlib import Path
from typing import Optional

import typer

from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.core.units import percent

from .common import Checkpoint, RunsDir, TrustCode, json_option, png_option
from .completion import run_names
from .plots import histogram_chart, use_color
from .textviz import image_grid, print_lines, table

OPTIONAL_VALUE = {"--hist": "all", "--filters": "auto", "--recipe": "list"}  # flags whose value may be left out
Png = png_option("also save the figures as PNG files (needs lab-workbench[plots])")
Json = json_option("print the statistics as JSON")


def g(v) -> str:
    return f"{v:.4g}"


def stats_rows(tensors, layers: dict | None = None):
    layers = layers or {}
    return [[t["name"], layers.get(t["name"], ""), "x".join(map(str, t["shape"])) or "-", f"{t['count']:,}",
             g(t["mean"]), g(t["std"]), g(t["min"]), g(t["max"]), g(t["l2"]), percent(t["near_zero"], 1)]
            for t in tensors]


def inspect_command(
    target: str = typer.Argument("latest", autocompletion=run_names,
                                 help="run folder, 'latest', or a checkpoint file"),
    checkpoint: Checkpoint = "best",
    hist: Optional[str] = typer.Option(None, "--hist", help="value histograms: all layers, or the named one"),
    compare: Optional[str] = typer.Option(None, "--compare", autocompletion=run_names,
                                          help="another run or checkpoint to compare with"),
    filters: Optional[str] = typer.Option(None, "--filters", help="first-layer filters as images (or a layer name)"),
    feature_maps: Optional[int] = typer.Option(None, "--feature-maps", help="conv activation maps of test image INDEX"),
    png: Png = None,
    json_out: Json = False,
    runs_dir: RunsDir = "runs",
    trust_code: TrustCode = False,
):
    """Per-tensor weight statistics (mean, std, min, max, L2, share near zero) and views inside a model."""
    for flag, value in (("--hist", hist), ("--filters", filters), ("--compare", compare)):
        if value is not None and not value.strip():
            raise ConfigError(f"{flag}: expected a name, got {value!r}")
    if feature_maps is not None and feature_maps < 0:
        raise ConfigError(f"--feature-maps: expected a test image index >= 0, got {feature_maps}")
    from lab_workbench.engine.artifacts import load_model  # torch, once the flags are checked
    import torch

    from lab_workbench.engine.evaluation import layer_names, weight_table
    loaded = load_model(target, checkpoint, "cpu", runs_dir, trust_code)
    if compare is not None:
        return _compare(loaded, load_model(compare, checkpoint, "cpu", runs_dir, trust_code), json_out)
    state = loaded.model.state_dict()
    info = weight_table(state)
    params = {t["name"] for t in info["tensors"]}
    if hist not in (None, "all") and hist not in params:  # checked before anything is printed
        raise ConfigError(f"--hist: no parameter tensor {hist!r} (have: {', '.join(sorted(params))})")
    if json_out:
        print(json.dumps(info, indent=2))
        return
    print(f"{loaded.path}: {loaded.config.model}, {info['total']['count']:,} parameters")
    layers = layer_names(loaded.model) if isinstance(loaded.model, torch.nn.Module) else {}
    print(table(stats_rows(info["tensors"] + [info["total"]], layers),
                ["tensor", "layer", "shape", "count", "mean", "std", "min", "max", "L2", "|w|<1e-3"]))
    if hist is not None:
        _histograms(state, hist, params, png)
    if filters is not None:
        _filters(loaded, None if filters == "auto" else filters, png)
    if feature_maps is not None:
        _feature_maps(loaded, feature_maps, png)


def _compare(loaded, other, json_out: bool) -> None:
    """--compare: both models' statistics per tensor, side by side, and how far apart they are."""
    from lab_workbench.engine.evaluation import compare_states
    rows = compare_states(loaded.model.state_dict(), other.model.state_dict())
    if json_out:
        print(json.dumps(rows, indent=2))
        return
    print(f"A = {loaded.path}\nB = {other.path}")
    print(table([[r["name"], g(r["a"]["mean"]), g(r["b"]["mean"]), g(r["a"]["std"]), g(r["b"]["std"]),
                  g(r["a"]["l2"]), g(r["b"]["l2"]), g(r["diff_l2"]), f"{r['cosine']:.4f}",
                  percent(r["a"]["near_zero"], 1), percent(r["b"]["near_zero"], 1)] for r in rows],
                ["tensor", "mean A", "mean B", "std A", "std B", "L2 A", "L2 B", "L2(A-B)", "cosine",
                 "~0 A", "~0 B"]))


def _histograms(state, which, params, png):
    import numpy as np
    names = sorted(params, key=list(state).index) if which == "all" else [which]
    if which != "all" and which not in params:
        raise ConfigError(f"--hist: no parameter tensor {which!r} (have: {', '.join(sorted(params))})")
    for name in names:
        values = state[name].detach().double().flatten().numpy()
        counts, edges = np.histogram(values, bins=30)
        print()
        print(histogram_chart(counts.tolist(), edges.tolist(), f"{name} ({len(values):,} values)", height=10))
        if png is not None:
            _png_hist(values, name, png)


def _png_hist(values, name, png):
    from .png import _plt, _save
    plt = _plt()
    Path(png).mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.hist(values, bins=60)
    ax.set_title(name)
    _save(fig, Path(png) / f"hist_{name}.png")


def _filters(loaded, layer, png):
    from lab_workbench.engine.evaluation import filters
    name, arr = filters(loaded.model, loaded.input_shape, layer)
    shown = arr[:32]
    print(f"\nfilters of {name} ({len(arr)}, each scaled to its own range; first {len(shown)} shown):")
    images = [a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0) for a in shown]
    _show(images, [f"{name.split('.')[-1]}[{i}]" for i in range(len(shown))], png, f"filters_{name}.png")


def _feature_maps(loaded, index, png):
    from lab_workbench.engine.artifacts import load_eval_data
    from lab_workbench.engine.evaluation import feature_maps
    data = load_eval_data(loaded, "cpu")
    if not 0 <= index < len(data.test):
        raise ConfigError(f"--feature-maps: expected a test image index 0..{len(data.test) - 1}, got {index}")
    maps = feature_maps(loaded.model, data.test.take(slice(index, index + 1)))
    if not maps:
        raise ConfigError(f"--feature-maps: {loaded.config.model} has no conv layers")
    label = data.classes[int(data.test.y[index])]
    print(f"\nfeature maps of test image {index} (class {label!r}):")
    for name, acts in maps:
        print(f"\n{name}: {acts.shape[0]} maps of {acts.shape[1]}x{acts.shape[2]} (first 16 shown)")
        _show(list(acts[:16]), [f"{i}" for i in range(min(16, len(acts)))], png, f"maps_{name}.png")


def _show(images, captions, png, filename):
    print_lines(image_grid(images, captions, use_color()))
    if png is not None:
        from .png import save_array_grid
        Path(png).mkdir(parents=True, exist_ok=True)
        save_array_grid(images, captions, Path(png) / filename)
