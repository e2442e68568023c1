"""One line: run state or phase, epoch, ETA, batch loss, samples/s, elapsed time, device, parameters.

What does not fit the width is dropped by priority (parameters first, the state last), never wrapped away."""

from rich.text import Text
from textual.widgets import Static


def _hms(seconds: float) -> str:
    if not 0 <= seconds < 1e9:  # NaN, inf, negative or absurd (a hostile run folder): no time to show
        return "-"
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


class StatusLine(Static):
    """Rendered from plain fields so tests and snapshots control every value."""

    parts: list[tuple[int, str, str]] = []  # (priority: lower stays longer, text, style)

    def set_status(self, state: str, device: str = "-", params: int = 0, epoch: int = 0, epochs: int = 0,
                   elapsed: float = 0.0, eta: float | None = None, extra: str = "", rate: float | None = None) -> None:
        """`extra` is the batch loss part (already formatted); `rate` samples per second while training."""
        if state in ("starting", "loading data"):  # data loading takes seconds on big sets: say what happens
            self.parts = [(0, "loading data", "bold"), (1, "and building the model...", ""),
                          (2, f"elapsed {_hms(elapsed)}", "")]
        else:
            self.parts = [(0, state, "bold"), (1, f"epoch {epoch}/{epochs}", ""),
                          (1, f"ETA {_hms(eta)}" if eta is not None else "", ""), (2, extra.strip(), ""),
                          (3, f"{rate:,.0f} samples/s" if rate else "", ""), (4, f"elapsed {_hms(elapsed)}", ""),
                          (5, device, ""), (6, f"{params:,} params" if params else "", "")]
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        parts = [p for p in self.parts if p[1]]
        width = self.size.width or 10_000
        while len(parts) > 1 and sum(len(t) + 2 for _, t, _ in parts) - 2 > width:
            parts.remove(max(parts, key=lambda p: p[0]))
        text = Text()
        for i, (_, t, style) in enumerate(parts):
            text.append("  " if i else "")
            text.append(t, style)
        self.update(text)
