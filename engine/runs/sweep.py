"""Sweeps: a grid of TrainConfig fields, its points, and the summary of the runs they made.

Pure planning and reading; running the points (one process each) is the face's job.
"""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

from lab_workbench.engine.settings.config import SETTINGS_BY_NAME, check_run_name, config_from_text
from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.runs.names import SWEEP

NOT_SWEPT = ("name", "runs_dir", "device", "data_dir", "download")  # where and how, not what
SWEEP_FILE = SWEEP  # the sweep's own record, in the folder above its runs


def varied_field(spec: str, flag: str, expected: str, what: str, seen: dict):
    """(name, Setting, value text) of one FIELD=... of --grid or --param; a ConfigError naming the flag for a
    malformed spec, a field that cannot vary, or one given twice."""
    key, eq, text = spec.partition("=")
    name = key.strip().lstrip("-").replace("-", "_")
    if not eq or not name:
        raise ConfigError(f"{flag}: expected {expected}, got {spec!r}")
    s = SETTINGS_BY_NAME.get(name)
    if s is None or name in NOT_SWEPT:
        raise ConfigError(f"{flag} {name}: not a field that a {what} can vary (see `lab train --help`)")
    if name in seen:
        raise ConfigError(f"{flag} {name}: given twice")
    return name, s, text


def parse_grid(specs: list[str]) -> dict[str, list[str]]:
    """['l2=0,1e-4', 'channels=32;64;32,64'] -> {'l2': ['0', '1e-4'], 'channels': ['32', '64', '32,64']}.

    Values are split on ',' except for list fields (--hidden, --channels, --classes), which split on ';'.
    Each value is checked by the field's own parser, so a bad one is refused before anything runs."""
    grid: dict[str, list[str]] = {}
    for spec in specs:
        name, s, text = varied_field(spec, "--grid", "FIELD=V1,V2,...", "sweep", grid)
        values = [v.strip() for v in text.split(";" if s.kind == "ints" else ",") if v.strip()]
        if not values:
            raise ConfigError(f"--grid {name}: expected at least one value, got {text!r}")
        for v in values:
            try:
                s.parse(v)
            except ConfigError as e:
                raise ConfigError(f"--grid {name}={v}: {str(e).split(': ', 1)[-1]}") from None
        grid[name] = values
    return grid


def points(grid: dict[str, list[str]]) -> list[dict[str, str]]:
    """The cartesian product, first field varying slowest."""
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


MAX_NAME = 200  # bytes: check_run_name's limit, well under the 255 of most file systems


def point_name(point: dict[str, str]) -> str:
    """A plain folder name for a point: 'l2=0.0001_dropout=0.4' (lists as 32-64); a name longer than
    MAX_NAME bytes is cut and ends with a hash of the whole, so that it stays unique."""
    def text(v: str) -> str:
        return v.replace(",", "-").replace("/", "-").replace(" ", "")
    name = "_".join(f"{k}={text(v)}" for k, v in point.items()) or "base"
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) > MAX_NAME:
        name = raw[:MAX_NAME - 9].decode("utf-8", "ignore") + "-" + hashlib.sha256(raw).hexdigest()[:8]
    return name


def plan(grid: dict[str, list[str]], base: dict[str, str], max_runs: int) -> dict[str, dict[str, str]]:
    """{point name: its grid values}, in grid order, once every point's config has been validated: the whole
    grid is refused if any point is bad."""
    pts = points(grid)
    if len(pts) > max_runs:
        raise ConfigError(f"--grid: {len(pts)} points, more than --max-runs {max_runs}")
    named: dict[str, dict[str, str]] = {}
    for p in pts:
        try:
            config_from_text({**base, **p})
            check_run_name(point_name(p))
        except ConfigError as e:
            raise ConfigError(f"--grid point {point_name(p)!r}: {e}") from None
        if point_name(p) in named:  # 'a b' and 'ab' would share one folder and one run
            raise ConfigError(f"--grid: points {named[point_name(p)]} and {p} would share the folder name "
                              f"{point_name(p)!r}; give values that differ in more than spaces, ',' or '/'")
        named[point_name(p)] = p
    return named


def numeric_axis(values: list) -> tuple[list[float], bool] | None:
    """For a sweep over one numeric field: the x values, and whether a log axis suits them (values spanning
    two decades or more; a zero is drawn a decade below the smallest positive value)."""
    try:
        xs = [float(v) for v in values]
    except (TypeError, ValueError):
        return None
    positive = [x for x in xs if x > 0]
    if len(positive) >= 2 and max(positive) / min(positive) >= 100 and all(x >= 0 for x in xs):
        floor = min(positive) / 10
        return [x if x > 0 else floor for x in xs], True
    return xs, False


def read_sweep(folder: str | Path) -> dict:
    """A sweep folder's sweep.json, checked: an object whose `points` is a list of plain run names."""
    from lab_workbench.engine.settings.config import check_run_name
    from lab_workbench.engine.core.files import read_json
    path = Path(folder) / SWEEP_FILE
    info = read_json(path)
    points = info.get("points") if isinstance(info, dict) else None
    if not isinstance(info, dict) or not isinstance(points, list) or not all(isinstance(p, str) for p in points):
        raise ConfigError(f"{path}: expected a JSON object whose points is a list of run names")
    for p in points:
        try:
            check_run_name(p)
        except ConfigError:
            raise ConfigError(f"{path}: point {p!r} is not a plain folder name") from None
    return info


def check_resume(record: dict, grid: dict, settings: dict, train_flags: list[str]) -> None:
    """A resumed sweep trains with the grid and flags its record (sweep.json) holds: anything else would
    leave runs that the record does not describe. Where and how (--device, --data-dir, -j) may change."""
    if "grid" in record and record["grid"] != grid:
        raise ConfigError(f"--resume: the sweep's grid is {_grid_text(record['grid'])}, not {_grid_text(grid)}; "
                          f"a resumed sweep keeps its grid (start a new sweep under another NAME)")
    if "settings" not in record:  # a record from before settings were kept: its flags as words
        if record.get("train_flags") not in (None, train_flags):
            raise ConfigError(f"--resume: the sweep was made with the flags {' '.join(record['train_flags'])!r}; "
                              f"repeat them (or start a new sweep under another NAME)")
        return
    changed = changed_settings(record["settings"], settings)
    if changed:
        raise ConfigError(f"--resume: flags differ from the sweep's record ({', '.join(changed)}); a resumed "
                          f"sweep keeps its flags: repeat them, or start a new sweep under another NAME")


def changed_settings(recorded: dict, now: dict) -> list[str]:
    """['--epochs 1 -> 7', '--lr default -> 0.5']: the fields (not where or how) that differ."""
    from lab_workbench.engine.settings.config import flag_value
    order = {n: i for i, n in enumerate(SETTINGS_BY_NAME)}
    out = []
    for name in sorted(set(recorded) | set(now), key=lambda n: order.get(n, len(order))):
        s = SETTINGS_BY_NAME.get(name)
        if name in NOT_SWEPT or s is None or recorded.get(name) == now.get(name):
            continue
        out.append(f"{s.flag} {flag_value(name, recorded.get(name))} -> {flag_value(name, now.get(name))}")
    return out


def _grid_text(grid) -> str:
    if not isinstance(grid, dict):
        return repr(grid)
    def sep(k):
        return ";" if getattr(SETTINGS_BY_NAME.get(k), "kind", "") == "ints" else ","
    return " ".join(f"--grid {k}={sep(k).join(map(str, v))}" for k, v in grid.items()) or "no grid"
