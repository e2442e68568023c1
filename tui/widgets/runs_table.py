"""The list of past runs, the runs of a sweep grouped under it: name, data, model, epochs, accuracy, status."""

from textual.widgets import DataTable

from engine.runs import RunFolder, RunInfo

# the status comes right after the name, so that it stays on screen at 80 columns; the columns at the end
# (data, model) are the first to go off-screen
COLUMNS = ("", "run", "status", "best val", "test", "epochs", "model", "data")
NAME_WIDTH = 26  # a longer run name is shortened in the middle (the date at its end tells runs apart)
SORTS = {"newest": None, "name": lambda r: r.name, "best val": lambda r: -(r.best_val_acc or -1.0),
         "status": lambda r: r.status}


def _short(name: str, width: int = NAME_WIDTH) -> str:
    return name if len(name) <= width else name[: width // 2 - 1] + "…" + name[-(width - width // 2):]


def _pct(v):
    return "-" if v is None else f"{100 * v:.2f}%"


class RunsTable(DataTable):
    """Rows keyed by run path (a sweep's header row by 'sweep:' + its path); space marks runs to compare,
    and on a sweep's row marks all of its runs."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns(*COLUMNS)
        self.marked: list[str] = []
        self.infos: dict[str, RunInfo] = {}
        self.groups: dict[str, list[str]] = {}

    def set_runs(self, runs: list[RunInfo], query: str = "", sort: str = "newest") -> None:
        """Show `runs` whose name, data, model or status contain `query`, in `sort` order; the cursor stays
        on the run it was on."""
        here = self.current_key()
        every = {str(r.path) for r in runs}
        self.marked = [m for m in self.marked if m in every]  # a filter hides marked runs; it does not unmark
        if query:
            q = query.lower()
            runs = [r for r in runs if q in f"{r.name} {r.source} {r.config.get('model', '')} {r.status}".lower()]
        if SORTS.get(sort):
            runs = sorted(runs, key=SORTS[sort])
        self.clear()
        self._fill(runs)
        if here is not None and here in self.rows:
            self.move_cursor(row=self.get_row_index(here), animate=False)

    def _fill(self, runs: list[RunInfo]) -> None:
        self.infos = {str(r.path): r for r in runs}
        self.groups: dict[str, list[str]] = {}
        order: list[str] = []  # groups in the order of their newest run
        for r in runs:
            group = str(r.path.parent) if RunFolder(r.path).in_sweep() else str(r.path)
            if group not in self.groups:
                self.groups[group] = []
                order.append(group)
            self.groups[group].append(str(r.path))
        for group in order:
            members = self.groups[group]
            if members != [group]:  # a sweep: a header row, then its runs indented
                self.add_row(" ", _short(f"{_name(group)}/ (sweep, {len(members)})"), "", "", "", "", "", "",
                             key=f"sweep:{group}")
            for key in members:
                r = self.infos[key]
                done = r.rows[-1]["epoch"] if r.rows else 0
                name = f"  {r.path.name}" if members != [group] else r.name
                self.add_row(self._mark(key), _short(name), r.status, _pct(r.best_val_acc), _pct(r.test_acc),
                             f"{done}/{r.epochs}", str(r.config.get("model", "?"))[:12], r.source[:12], key=key)

    def _mark(self, key: str) -> str:
        return str(self.marked.index(key) + 1) if key in self.marked else " "  # the run's number in compare

    def current(self) -> RunInfo | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return self.infos.get(key)

    def current_key(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def clear_marks(self) -> None:
        """Unmark every run."""
        self.marked = []
        self._show_marks()

    def toggle_mark(self) -> None:
        """Mark or unmark the run under the cursor (all the runs of a sweep on its header row)."""
        key = self.current_key()
        if key is None:
            return
        keys = self.groups.get(key[len("sweep:"):], []) if key.startswith("sweep:") else [key]
        if all(k in self.marked for k in keys):
            self.marked = [m for m in self.marked if m not in keys]
        else:
            self.marked += [k for k in keys if k not in self.marked]
        self._show_marks()

    def _show_marks(self) -> None:
        for k in self.infos:  # the rows shown
            self.update_cell(k, self.columns[list(self.columns)[0]].key, self._mark(k))


def _name(path: str) -> str:
    from pathlib import Path
    return Path(path).name
