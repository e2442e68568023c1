"""Reading numbers from a run folder's files, which may be damaged or hostile: never trusted, never raising."""

from __future__ import annotations

MAX_FIELD = 64  # characters: a longer "number" is not one (and csv would choke on megabyte fields)
HUGE = 1e15  # a metric beyond this is no measurement, and it would overflow a chart's arithmetic


def number(value, lo: float = -HUGE, hi: float = HUGE, default=None):
    """THE way to read a number from a run folder (CSV text or bytes, a JSON value): a float in [lo, hi], or
    `default` where it is not a number, or is NaN, inf, or outside the bounds (negative, huge). Never raises."""
    if isinstance(value, bool):
        return default
    if isinstance(value, (bytes, str)):
        if len(value) > MAX_FIELD:
            return default
        try:
            value = float(value)
        except ValueError:
            return default
    if not isinstance(value, (int, float)):
        return default
    try:
        x = float(value)
    except OverflowError:  # an int with hundreds of digits
        return default
    return x if lo <= x <= hi else default  # NaN fails both comparisons
