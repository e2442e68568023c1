"""The list of past runs: name, data, model, epochs, best val acc, test acc, status."""

from textual.widgets import DataTable

from engine.runinfo import RunInfo

COLUMNS = ("", "run", "data", "model", "epochs", "best val", "test", "status")


def _pct(v):
    return "-" if v is None else f"{100 * v:.2f}%"


class RunsTable(DataTable):
    """Rows keyed by run path; space marks up to two runs for comparison."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns(*COLUMNS)
        self.marked: list[str] = []
        self.infos: dict[str, RunInfo] = {}

    def set_runs(self, runs: list[RunInfo]) -> None:
        self.clear()
        self.infos = {str(r.path): r for r in runs}
        self.marked = [m for m in self.marked if m in self.infos]
        for r in runs:
            done = r.rows[-1]["epoch"] if r.rows else 0
            self.add_row(self._mark(str(r.path)), r.name, r.source, r.config.get("model", "?"),
                         f"{done}/{r.epochs}", _pct(r.best_val_acc), _pct(r.test_acc), r.status, key=str(r.path))

    def _mark(self, key: str) -> str:
        return str(self.marked.index(key) + 1) if key in self.marked else " "

    def current(self) -> RunInfo | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return self.infos.get(key)

    def toggle_mark(self) -> None:
        run = self.current()
        if run is None:
            return
        key = str(run.path)
        if key in self.marked:
            self.marked.remove(key)
        else:
            self.marked = (self.marked + [key])[-2:]
        for k in self.infos:
            self.update_cell(k, self.columns[list(self.columns)[0]].key, self._mark(k))
