"""Terminal charts through plotext's module-level API (plotext 5.x, pinned <6 in pyproject.toml).

Every chart has a title, draws on the terminal's own background (plotext's default theme paints it white),
and gives each series its own marker and colour, named in a legend above the plot (not over the lines), so
that series stay apart under NO_COLOR and on a monochrome terminal."""

from __future__ import annotations

import os
import re
import shutil
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*m")
# (marker, colour, legend sample) per series, in order; braille draws the finest line, so it goes first
STYLES = [("braille", "blue+", "⠒⠒"), ("•", "red+", "••"), ("+", "green+", "++"), ("x", "magenta+", "xx"),
          ("o", "cyan+", "oo"), ("*", "orange", "**"), ("#", "yellow", "##"), ("@", "gray", "@@")]
EIGHTHS = " ▁▂▃▄▅▆▇█"


def use_color(stream=None) -> bool:
    """Colour only on a terminal and never under NO_COLOR."""
    stream = stream or sys.stdout
    return stream.isatty() and not os.environ.get("NO_COLOR")


def chart_width(width: int | None = None) -> int:
    """The width a chart is drawn at: the one asked for, else the terminal's (at most 100)."""
    return width or min(shutil.get_terminal_size((80, 24)).columns, 100)


def _start():
    import plotext as plt
    plt.clear_figure()
    plt.theme("clear")  # the terminal's default background and text colour
    return plt


def plot_series(plt, i: int, x, y) -> None:
    """Series number i as a line in its own marker and colour."""
    marker, color, _ = STYLES[i % len(STYLES)]
    plt.plot(x, y, marker=marker, color=color)


def legend(names: list[str], width: int) -> list[str]:
    """The legend above a chart: each name after its marker, as many per line as fit."""
    import plotext as plt
    lines, line, used = [], "", 0
    for i, name in enumerate(names):
        _, color, sample = STYLES[i % len(STYLES)]
        item = f"{sample} {name}"
        if used and used + 3 + len(item) > width:
            lines.append(line)
            line, used = "", 0
        piece = (plt.colorize(sample, color) if use_color() else sample) + f" {name}"
        line, used = (line + "   " + piece, used + 3 + len(item)) if used else (piece, len(item))
    return lines + ([line] if line else [])


def _finish(plt, title: str, width: int | None, height: int, names: list[str] | None = None) -> str:
    width = chart_width(width)
    plt.plotsize(width, height)
    plt.title(title[:width - 2])  # plotext drops a title longer than the plot
    text = plt.build()
    text = text if use_color() else ANSI.sub("", text)
    lines = [line.rstrip() for line in text.splitlines()]
    if names:
        lines[1:1] = legend(names, width)  # between the title and the frame
    return "\n".join(lines)


def histogram_chart(counts: list[float], edges: list[float], title: str, width: int | None = None,
                    height: int = 12, log: bool = False) -> str:
    """A pre-binned histogram in eighth blocks: an empty bin draws nothing and a bin of one count a sliver
    (plotext's bars give any non-empty bin a whole bottom row, which made every bin look alike)."""
    import math
    values = [math.log10(c + 1) if log else float(c) for c in counts]  # log: log10(count + 1), 0 stays 0
    top = max(values, default=0.0) or 1.0
    rows = max(2, height - 3)
    labels = [f"{top * (rows - r) / rows:.3g}" for r in range(rows)]
    label_w = max(len(s) for s in labels + ["0"])
    cols = max(10, chart_width(width) - label_w - 2)
    per_col = [max((values[b] for b in _bins_of(c, cols, len(values))), default=0.0) for c in range(cols)]
    eighths = [0 if v <= 0 else max(1, round(8 * rows * v / top)) for v in per_col]
    out = [f"{'':>{label_w}} {title[:cols]:^{cols}}".rstrip()]
    for r in range(rows):
        base = 8 * (rows - 1 - r)
        cells = "".join(EIGHTHS[min(8, max(0, e - base))] for e in eighths)
        out.append(f"{labels[r] if r % 2 == 0 else '':>{label_w}}┤{cells}".rstrip())
    out.append(f"{'0':>{label_w}}└" + "─" * cols)
    out.append(" " * (label_w + 1) + _ticks(edges[0], edges[-1], cols))
    return "\n".join(out)


def _bins_of(col: int, cols: int, n: int) -> range:
    """The bins that column `col` of `cols` covers (several when bins outnumber columns)."""
    lo, hi = col * n // cols, (col + 1) * n // cols
    return range(lo, max(hi, lo + 1)) if lo < n else range(0)


def _ticks(lo: float, hi: float, cols: int) -> str:
    """Five x labels (lo .. hi) spread over cols characters."""
    line = [" "] * (cols + 12)
    for i in range(5):
        text, at = f"{lo + (hi - lo) * i / 4:.3g}", round((cols - 1) * i / 4)
        start = min(max(0, at - len(text) // 2), cols + 12 - len(text))
        line[start:start + len(text)] = text
    return "".join(line).rstrip()


def line_chart(series: dict[str, list[float]], title: str, width: int | None = None, height: int = 14,
               x: list[float] | None = None, log_x: bool = False) -> str:
    """Several named lines on one plot, each in its own marker and colour, the legend above."""
    plt = _start()
    for i, ys in enumerate(series.values()):
        plot_series(plt, i, x or list(range(1, len(ys) + 1)), ys)
    if log_x and x:
        import math
        plt.xscale("log")
        lo, hi = math.floor(math.log10(min(x))), math.ceil(math.log10(max(x)))
        decades = list(range(lo, hi + 1, max(1, (hi - lo) // 8)))
        plt.xticks([10.0 ** k for k in decades], [f"1e{k}" for k in decades])
    if x and all(isinstance(v, int) for v in x):  # epochs: whole-number ticks only
        step = max(1, -(-len(x) // 10))
        plt.xticks(x[::step])
    return _finish(plt, title, width, height, list(series) if len(series) > 1 else None)
