"""A plotext line chart of training and validation curves (textual-plotext, plotext 5 API)."""

from textual_plotext import PlotextPlot


class CurvePlot(PlotextPlot):
    """Lines keyed by label; `metric` is 'loss' or 'acc' and picks the columns of the metrics rows."""

    def __init__(self, metric: str, title: str, **kw) -> None:
        super().__init__(**kw)
        self.metric = metric
        self.title = title
        self.series: dict[str, tuple[list[float], list[float]]] = {}

    def on_mount(self) -> None:
        self.draw()

    def set_rows(self, rows: list[dict], prefix: str = "", splits=("train", "val")) -> None:
        """Train and validation lines from metrics rows; `prefix` labels a run when comparing."""
        x = [r["epoch"] for r in rows]
        for split in splits:
            self.series[f"{prefix}{split}"] = (x, [r[f"{split}_{self.metric}"] for r in rows])
        self.draw()

    def clear_series(self) -> None:
        self.series.clear()

    def draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.title)
        plt.xlabel("epoch")
        markers = ["braille", "dot", "fhd", "hd"]
        for i, (label, (x, y)) in enumerate(self.series.items()):
            pts = [(a, b) for a, b in zip(x, y) if b == b]  # NaN (no validation split) is skipped
            if pts:
                plt.plot([p[0] for p in pts], [p[1] for p in pts], label=label, marker=markers[i % len(markers)])
        if not any(self.series.values()):
            plt.text("waiting for the first epoch", 0.5, 0.5, alignment="center")
            plt.xlim(0, 1)
            plt.ylim(0, 1)
        self.refresh()
