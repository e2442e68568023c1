"""Curves of runs for both faces: smoothing, the finite points of a metric, the config fields that differ
between runs, and a sweep's final metric against its one varied field.

`lab compare` (text and PNG) and the TUI's plots draw from these functions, so that the same runs give the
same curves and the same "differs in" columns everywhere."""

from __future__ import annotations

from lab_workbench.engine.runs.sweep import NOT_SWEPT, numeric_axis
from lab_workbench.engine.core.units import is_number

# where and how a run ran, and free-form notes: not what was trained, so never "a difference"
NOT_DIFFERENCES = (*NOT_SWEPT, "extra")


class Smoother:
    """A debiased exponential moving average fed one value at a time: `add(v)` returns the smoothed value so
    far. The bias correction keeps the first points at the data instead of pulling them towards 0. lr-find
    smooths its loss with it as it goes, the curves below all at once."""

    def __init__(self, alpha: float):
        self.alpha, self.avg, self.n = alpha, 0.0, 0

    def add(self, v: float) -> float:
        self.n += 1
        self.avg = self.alpha * self.avg + (1 - self.alpha) * v
        return self.avg / (1 - self.alpha ** self.n)


def smooth(values: list[float], alpha: float) -> list[float]:
    """Smoother over a whole curve, as TensorBoard's smoothing slider draws it (alpha 0: none, 0.9: heavy);
    a value that is not a finite number (a diverged epoch's NaN) is kept as it is and left out of the
    average."""
    if not alpha:
        return list(values)
    s = Smoother(alpha)
    return [s.add(v) if is_number(v) else v for v in values]


def points(rows: list[dict], metric: str, x: str = "epoch") -> tuple[list, list[float]]:
    """(xs, values) of the rows whose `metric` is a finite number: a NaN row (a diverged epoch) is left out."""
    kept = [(r.get(x), r.get(metric)) for r in rows if is_number(r.get(metric))]
    return [p[0] for p in kept], [float(p[1]) for p in kept]


def differing(configs: list[dict]) -> list[str]:
    """The config fields whose values are not the same in every config, sorted (NOT_DIFFERENCES left out)."""
    from lab_workbench.engine.settings.config import flag_value
    keys = sorted({k for c in configs for k in c} - set(NOT_DIFFERENCES))

    def shown(key, config):  # compared as a flag shows it: an unset --hidden equals the model's own default
        model = config.get("model")
        return flag_value(key, config.get(key), config if isinstance(model, str) else None)
    return [k for k in keys if len({shown(k, c) for c in configs}) > 1]


def final_against_field(configs: list[dict], finals: list, field: str) -> tuple[list[tuple], bool] | None:
    """A sweep's curve: (x, final metric, field value as given) per run, sorted by x, and whether x is a log
    axis (a 0 then sits a decade below the smallest value). None unless the field is numeric in every run
    and every run has a final metric; a NaN final (a diverged run) is left out of the curve."""
    values = [c.get(field) for c in configs]
    axis = numeric_axis(values)
    if axis is None or len(configs) < 2 or any(f is None for f in finals):
        return None
    xs, log = axis
    kept = [p for p in zip(xs, finals, values) if is_number(p[1])]
    return (sorted(kept, key=lambda p: p[0]), log) if len(kept) >= 2 else None
