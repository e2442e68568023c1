"""Terminal charts through plotext's module-level API (plotext 5.x, pinned <6 in pyproject.toml)."""

from __future__ import annotations

import os
import re
import shutil
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def use_color(stream=None) -> bool:
    """Colour only on a terminal and never under NO_COLOR."""
    stream = stream or sys.stdout
    return stream.isatty() and not os.environ.get("NO_COLOR")


def _finish(plt, title: str, width: int | None, height: int) -> str:
    width = width or min(shutil.get_terminal_size((80, 24)).columns, 100)
    plt.plotsize(width, height)
    if title:
        plt.title(title)
    text = plt.build()
    text = text if use_color() else ANSI.sub("", text)
    return "\n".join(line.rstrip() for line in text.splitlines())


def bar_chart(labels: list[str], values: list[float], title: str = "", width: int | None = None) -> str:
    """Horizontal bars, first label on top."""
    import plotext as plt
    plt.clear_figure()
    plt.bar(list(reversed(labels)), list(reversed(values)), orientation="horizontal", width=0.6)
    return _finish(plt, title, width, min(len(labels) + 5, 40))


def histogram_chart(counts: list[float], edges: list[float], title: str = "", width: int | None = None,
                    height: int = 12, log: bool = False) -> str:
    """Pre-binned histogram as vertical bars at the bin centres."""
    import plotext as plt
    plt.clear_figure()
    centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    if log:  # plotext's log axis fails on empty bins; plot log10(count + 1) instead
        import math
        counts = [math.log10(c + 1) for c in counts]
    plt.bar(centres, counts, width=0.9)
    ticks = [edges[0] + (edges[-1] - edges[0]) * i / 4 for i in range(5)]
    plt.xticks(ticks, [f"{t:.3g}" for t in ticks])
    return _finish(plt, title, width, height)


def line_chart(series: dict[str, list[float]], title: str = "", width: int | None = None, height: int = 14,
               x: list[float] | None = None, log_x: bool = False) -> str:
    """Several named lines on one plot."""
    import plotext as plt
    plt.clear_figure()
    for name, ys in series.items():
        plt.plot(x or list(range(1, len(ys) + 1)), ys, label=name)
    if log_x and x:
        import math
        plt.xscale("log")
        lo, hi = math.floor(math.log10(min(x))), math.ceil(math.log10(max(x)))
        decades = list(range(lo, hi + 1, max(1, (hi - lo) // 8)))
        plt.xticks([10.0 ** k for k in decades], [f"1e{k}" for k in decades])
    if x and all(isinstance(v, int) for v in x):  # epochs: whole-number ticks only
        step = max(1, -(-len(x) // 10))
        plt.xticks(x[::step])
    return _finish(plt, title, width, height)
