"""The live epoch table: one row per epoch, the best one marked."""

from rich.text import Text
from textual.widgets import DataTable

from lab_workbench.engine.core.units import percent

COLUMNS = ("epoch", "train loss", "train acc", "val loss", "val acc", "lr", "sec")


def _f(v, pct=False):
    if pct:
        return percent(v)
    return "-" if v is None or v != v else f"{v:.4f}"


class EpochTable(DataTable):
    """DataTable of metrics rows (dicts with the metrics.csv keys)."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns(*COLUMNS)
        self._best = None

    def set_rows(self, rows: list[dict]) -> None:
        """Show exactly these rows (watch mode and past runs re-read the whole file)."""
        self.clear()
        self._best = None
        for row in rows:
            self.add_row_dict(row)

    def add_row_dict(self, row: dict, best: bool | None = None) -> None:
        if best is None:
            best = self._best is None or (row["val_acc"] == row["val_acc"] and row["val_acc"] > self._best)
        if best:
            self._best = row["val_acc"]
        epoch = Text(f"{row['epoch']}*", style="bold reverse") if best else str(row["epoch"])
        self.add_row(epoch, _f(row["train_loss"]), _f(row["train_acc"], True), _f(row["val_loss"]),
                     _f(row["val_acc"], True), f"{row['lr']:.2e}", f"{row['seconds']:.1f}")
        self.move_cursor(row=self.row_count - 1)
