"""How a rate and a size read, in `lab`, `labtui` and the engine's messages alike: one percent and one byte
formatter. Pure Python, no imports from the rest of lab, so that every layer may use it.

Sizes are binary (KiB = 1024 B, labelled so), the units `--data-memory 2G` is read in: a budget prints
as what was typed ("2.00 GiB"), and an error's "needs X, Y is available" compares like with like.
"""

from __future__ import annotations

import math

BYTE_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB")  # each 1024 times the one before
WIDE = 1e9  # beyond this many percent, fixed point would print a number as long as a line: %g instead


def is_number(v) -> bool:
    """A finite int or float (not a bool, not NaN or inf, not an int too large for a float)."""
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:  # an int past 1e308, say from a hostile JSON file
        return False


def percent(v, digits: int = 2) -> str:
    """A fraction as a percentage: 0.9876 -> '98.76%' (`digits` decimals); None, NaN, inf, a bool or any
    non-number (a diverged run, a hostile file) -> '-'."""
    if not is_number(v):
        return "-"
    x = 100 * float(v)
    return f"{x:.{digits}f}%" if abs(x) < WIDE else f"{x:.3g}%"


def format_bytes(n) -> str:
    """A size in binary units: 1536 -> '1.50 KiB', 2 << 30 -> '2.00 GiB', 512 -> '512 B'; None, NaN or inf
    -> '-'."""
    if not is_number(n):
        return "-"
    if n < 0:
        return "-" + format_bytes(-n)
    x, unit = float(n), "B"
    if x < 1024:
        return f"{int(x)} B"
    for unit in BYTE_UNITS:
        x /= 1024
        if x < 1024:
            break
    return f"{x:.2f} {unit}"
