"""One line: run state, device, parameters, epoch, elapsed time and ETA."""

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

    def set_status(self, state: str, device: str = "-", params: int = 0, epoch: int = 0, epochs: int = 0,
                   elapsed: float = 0.0, eta: float | None = None, extra: str = "") -> None:
        if state == "starting":  # data loading takes seconds on big sets: say what is happening
            self.update(Text.assemble((state, "bold"), f"  loading the data and building the model...  "
                                                       f"elapsed {_hms(elapsed)}"))
            return
        eta_text = _hms(eta) if eta is not None else "-"
        params_text = f"{params:,} params  " if params else ""
        self.update(Text.assemble((state, "bold"), f"  {device}  {params_text}epoch {epoch}/{epochs}  "
                                  f"elapsed {_hms(elapsed)}  ETA {eta_text}{extra}"))
