"""A plotext line chart of per-epoch curves (textual-plotext, plotext 5 API), any number of series.

Markers are braille or plain ASCII (the sextant glyphs of 'fhd'/'hd' are missing from many SSH fonts);
each series also has its own colour. The legend is drawn outside the plot (the title, or the caller's
legend) so it never covers the data. `l` toggles a log y axis and `s` cycles EMA smoothing.
"""

from __future__ import annotations

import math

from textual_plotext import PlotextPlot

from lab_workbench.engine.runs import smooth  # the same curves as `lab compare --smooth`

MARKERS = ["braille", "+", "x", "o", "*", "#", "@", "%", "&", "="]
# ten colours that stay apart as drawn (RGB, not names: a terminal's palette maps some names onto one colour)
COLORS = [(86, 180, 233), (230, 159, 0), (0, 200, 140), (240, 228, 66), (204, 121, 255), (255, 90, 90),
          (170, 170, 170), (255, 160, 200), (150, 110, 60), (90, 120, 255)]
TRAIN_MARKER = "."  # a compared run's training curve, in its colour
SMOOTHING = (0.0, 0.6, 0.9)
# what the second chart of a run can show (v cycles): per-epoch accuracy, learning rate, or the batch losses
CHOICES = {"acc": "accuracy", "lr": "learning rate", "batch": "batch loss"}


def epoch_ticks(xs: list[int], most: int = 8) -> list[int]:
    """Whole-number epoch ticks, at most `most` of them."""
    if not xs:
        return []
    lo, hi = min(xs), max(xs)
    step = max(1, math.ceil((hi - lo + 1) / most))
    return list(range(lo, hi + 1, step))


class CurvePlot(PlotextPlot):
    """Lines keyed by label; `metric` is 'loss' or 'acc' (drawn in %) and picks the metrics columns."""

    def __init__(self, metric: str, title: str, **kw) -> None:
        super().__init__(**kw)
        self.metric = metric
        self.title = title
        self.series: dict[str, tuple[list[int], list[float]]] = {}
        self.log_y = False
        self.smoothing = 0.0
        self.legend_in_title = True
        self.styles_of: dict[str, tuple[str, str]] = {}  # (marker, colour) by label, where the caller chose
        self.theme = "clear"  # the terminal's own background and text colours, not a painted block

    def on_mount(self) -> None:
        self.draw()

    def set_metric(self, metric: str) -> None:
        """Show another metric (a key of CHOICES); the caller sets the rows again."""
        self.metric, self.title = metric, CHOICES.get(metric, metric)
        self.series.clear()

    def set_rows(self, rows: list[dict], prefix: str = "", splits=("train", "val"), batches=()) -> None:
        """Train and validation lines from metrics rows; `prefix` labels a run when comparing. The `lr` metric
        is one line, and `batch` draws `batches`: (fractional epoch, loss) points."""
        x = [r["epoch"] for r in rows]
        if self.metric == "lr":
            self.series[f"{prefix}lr"] = (x, [_num(r.get("lr")) for r in rows])
        elif self.metric == "batch":
            self.series[f"{prefix}batch"] = ([b[0] for b in batches], [_num(b[1]) for b in batches])
        else:
            scale = 100.0 if self.metric == "acc" else 1.0
            for split in splits:
                self.series[f"{prefix}{split}"] = (x, [_num(r.get(f"{split}_{self.metric}")) * scale for r in rows])
        self.draw()

    def clear_series(self) -> None:
        self.series.clear()

    def toggle_log(self) -> None:
        self.log_y = not self.log_y
        self.draw()

    def cycle_smoothing(self) -> None:
        self.smoothing = SMOOTHING[(SMOOTHING.index(self.smoothing) + 1) % len(SMOOTHING)]
        self.draw()

    def style_of(self, i: int) -> tuple[str, str]:
        """(marker, colour) of the i-th series: the caller's for its label, else the i-th of each list."""
        label = list(self.series)[i] if i < len(self.series) else None
        return self.styles_of.get(label) or run_style(i)

    def legend(self) -> str:
        return "  ".join(f"{glyph(self.style_of(i)[0])} {label}" for i, label in enumerate(self.series))

    def heading(self) -> str:
        """Title, mode and legend, shortened step by step to fit the width (a longer one was not drawn)."""
        unit = " (%)" if self.metric == "acc" else ""
        legend = f"   {self.legend()}" if self.legend_in_title and self.series else ""
        long_mode = (" log" if self.log_y else "") + (f" ema {self.smoothing}" if self.smoothing else "")
        short_mode = (" log" if self.log_y else "") + (f" ~{self.smoothing}" if self.smoothing else "")
        short = self.title.split()[0][:5] + ("%" if unit else "")
        width = max((self.size.width or 200) - 2, 10)
        for text in (f"{self.title}{unit}{long_mode}{legend}", f"{short}{short_mode}{legend}",
                     f"{short}{short_mode} {legend.strip()}"):
            if len(text) <= width:
                return text
        return text[:width]

    def on_resize(self) -> None:
        self.draw()  # the heading fits the new width

    def draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.heading())
        plt.xlabel("epoch")
        xs_all: list[int] = []
        for i, (x, y) in enumerate(self.series.values()):
            ys = smooth(y, self.smoothing)
            pts = [(a, b) for a, b in zip(x, ys) if b == b and (b > 0 or not self.log_y)]
            if pts:
                marker, color = self.style_of(i)
                rgb = tuple(int(color[k:k + 2], 16) for k in (1, 3, 5))  # plotext takes RGB as a tuple
                plt.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker, color=rgb)
                xs_all += [p[0] for p in pts]
        if xs_all:
            plt.xticks(epoch_ticks([math.floor(v) for v in xs_all]))
            if self.log_y:
                plt.yscale("log")
        else:
            plt.text("waiting for the first epoch", 0.5, 0.5, alignment="center")
            plt.xlim(0, 1)
            plt.ylim(0, 1)
        self.refresh()


def _num(v) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else float("nan")


def glyph(marker: str) -> str:
    """How a marker looks in a legend."""
    return "⠿" if marker == "braille" else marker


def run_style(i: int) -> tuple[str, str]:
    """(marker, colour) of the i-th run or series; the colour as Rich writes it ('#56b4e9')."""
    r, g, b = COLORS[i % len(COLORS)]
    return MARKERS[i % len(MARKERS)], f"#{r:02x}{g:02x}{b:02x}"


class CurveKeys:
    """Screen mixin: `l` toggles log y and `s` cycles the smoothing of every CurvePlot on the screen."""

    def action_log_y(self) -> None:
        for plot in self.query(CurvePlot):
            plot.toggle_log()

    def action_smooth(self) -> None:
        for plot in self.query(CurvePlot):
            plot.cycle_smoothing()
