"""The list of past runs, the runs of a sweep grouped under it: name, data, model, epochs, accuracy, status,
when each began and how long it trained."""

import time

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.widgets import DataTable

from lab_workbench.engine.runs import RunFolder, RunInfo, number
from lab_workbench.engine.core.units import percent

from .status_line import _hms

# (key, heading) in the order shown
COLUMNS = (("mark", ""), ("run", "run"), ("status", "status"), ("best", "best val"), ("test", "test"),
           ("epochs", "epochs"), ("model", "model"), ("data", "data"), ("created", "created"),
           ("duration", "time"))
# first kept longest: where the terminal is too narrow the last ones are dropped whole, never cut off-screen
PRIORITY = ("run", "status", "mark", "best", "epochs", "test", "model", "data", "created", "duration")
# a status at a glance, in colours that also read at 16 colours
STATUS_STYLE = {"running": "bold green", "completed": "green", "early-stopped": "green", "interrupted": "yellow",
                "cancelled": "yellow", "stopped?": "yellow", "dead": "bold red", "failed": "bold red",
                "diverged": "bold red"}
PADDING = 2  # a DataTable cell's padding, both sides
NAME_WIDTH = 26  # a longer run name is shortened in the middle (the date at its end tells runs apart)
SORTS = {"newest": lambda r: -r.created, "name": lambda r: r.name, "best val": lambda r: -(r.best_val_acc or -1.0),
         "status": lambda r: r.status}


def _short(name: str, width: int = NAME_WIDTH) -> str:
    return name if len(name) <= width else name[: width // 2 - 1] + "…" + name[-(width - width // 2):]


def fit_columns(widths: dict[str, int], available: int) -> list[str]:
    """The column keys, in COLUMNS order, that fit `available` cells, the lowest PRIORITY dropped first."""
    keep = list(PRIORITY)
    while len(keep) > 2 and sum(widths[k] + PADDING for k in keep) > available:
        keep.pop()
    return [k for k, _ in COLUMNS if k in keep]


def _created(r: RunInfo) -> str:
    return time.strftime("%m-%d %H:%M", time.localtime(r.created)) if r.created > 0 else "-"


def _duration(r: RunInfo) -> str:
    """The time the run trained: its epochs' seconds; a running run's clock since it started."""
    p = r.progress if isinstance(r.progress, dict) else {}
    started = number(p.get("started"), 0, time.time())
    if r.status == "running" and started:
        return _hms(time.time() - started)
    return _hms(r.seconds) if r.rows else "-"


class RunsTable(DataTable):
    """Rows keyed by run path (a sweep's header row by 'sweep:' + its path); space marks runs to compare,
    and on a sweep's row marks all of its runs."""

    BINDINGS = [Binding("j", "cursor_down", show=False), Binding("k", "cursor_up", show=False),
                Binding("home,g", "scroll_top", show=False), Binding("end,G", "scroll_bottom", show=False)]

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.marked: list[str] = []
        self.infos: dict[str, RunInfo] = {}
        self.groups: dict[str, list[str]] = {}
        self.shown: list[str] = []  # the column keys on screen
        self.lines: list[tuple[str, dict]] = []  # (row key, {column key: cell}) of every row shown

    def on_resize(self, event: events.Resize) -> None:
        if self.lines and self._fit() != self.shown:
            here = self.current_key()
            self._draw()
            if here is not None and here in self.rows:
                self.move_cursor(row=self.get_row_index(here), animate=False)

    def set_runs(self, runs: list[RunInfo], query: str = "", sort: str = "newest", reverse: bool = False) -> None:
        """Show `runs` whose name, data, model or status contain `query`, in `sort` order; the cursor stays
        on the run it was on."""
        here = self.current_key()
        every = {str(r.path) for r in runs}
        self.marked = [m for m in self.marked if m in every]  # a filter hides marked runs; it does not unmark
        if query:
            q = query.lower()
            runs = [r for r in runs if q in f"{r.name} {r.source} {r.config.get('model', '')} {r.status}".lower()]
        runs = sorted(runs, key=SORTS.get(sort, SORTS["newest"]), reverse=reverse)
        before = [key for key, _ in self.lines], self._widths() if self.lines else None
        self._fill(runs)
        if before == ([key for key, _ in self.lines], self._widths()) and self._fit() == self.shown:
            self._update_cells()  # the same rows: a refresh changes cells, not the cursor or the scroll
            return
        self._draw()
        if here is not None and here in self.rows:
            self.move_cursor(row=self.get_row_index(here), animate=False)

    def _update_cells(self) -> None:
        for key, cells in self.lines:
            for k in self.shown:
                if self.get_cell(key, k) != cells.get(k, ""):
                    self.update_cell(key, k, cells.get(k, ""))

    def _fill(self, runs: list[RunInfo]) -> None:
        self.infos = {str(r.path): r for r in runs}
        self.groups = {}
        self.lines = []
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
                self.lines.append((f"sweep:{group}", {"mark": " ", "run": _short(f"{_name(group)}/ (sweep, "
                                                                                  f"{len(members)})")}))
            for key in members:
                r = self.infos[key]
                done = r.rows[-1]["epoch"] if r.rows else 0
                name = f"  {r.path.name}" if members != [group] else r.name
                status = Text(r.status, style=STATUS_STYLE.get(r.status, ""))
                self.lines.append((key, {"mark": self._mark(key), "run": _short(name), "status": status,
                                         "best": percent(r.best_val_acc), "test": percent(r.test_acc),
                                         "epochs": f"{done}/{r.epochs}", "model": str(r.config.get("model", "?"))[:12],
                                         "data": r.source[:12], "created": _created(r), "duration": _duration(r)}))

    def _widths(self) -> dict[str, int]:
        return {k: max([cell_len(h)] + [cell_len(str(cells.get(k, ""))) for _, cells in self.lines])
                for k, h in COLUMNS}

    def _fit(self) -> list[str]:
        """The columns that fit the width now (all of them before the first layout)."""
        width = self.size.width - 2  # room for the vertical scrollbar
        return fit_columns(self._widths(), width) if width > 0 else [k for k, _ in COLUMNS]

    def _draw(self) -> None:
        """The rows of `lines` under the columns that fit, each as wide as its widest cell (set here, not
        measured later by the table: a snapshot or a key may come before that)."""
        self.clear(columns=True)
        self.shown = self._fit()
        headings, widths = dict(COLUMNS), self._widths()
        for k in self.shown:
            self.add_column(headings[k], key=k, width=widths[k])
        for key, cells in self.lines:
            self.add_row(*(cells.get(k, "") for k in self.shown), key=key)

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
        for key, cells in self.lines:
            if key in self.infos:
                cells["mark"] = self._mark(key)
                if "mark" in self.shown:
                    self.update_cell(key, "mark", cells["mark"])


def _name(path: str) -> str:
    from pathlib import Path
    return Path(path).name
