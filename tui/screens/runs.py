"""Runs browser: every run folder under runs/ (a sweep's runs grouped), open one, or compare any number."""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from engine.runinfo import MAX_ROWS, read_run, read_runs

from ..widgets.runs_table import RunsTable


class RunsScreen(Screen):
    BINDINGS = [
        Binding("enter", "open", "Open"),
        Binding("space", "mark", "Mark"),
        Binding("m", "compare", "Compare"),
        Binding("w", "watch", "Watch"),
        Binding("n", "app.new_run", "New run"),
        Binding("f5", "reload", "Reload"),
        Binding("escape", "back", "Back"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, runs_dir: str) -> None:
        super().__init__()
        self.runs_dir = runs_dir

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield RunsTable(id="runs")
        yield Static("", id="runs-hint")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lab: runs"
        self.sub_title = f"{self.runs_dir}/"
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        runs = read_runs(self.runs_dir, MAX_ROWS)
        self.query_one(RunsTable).set_runs(runs)
        hint = ("space marks runs (on a sweep: all of its runs), m compares them" if runs
                else f"no runs in {self.runs_dir}/ yet: n starts one")
        self.query_one("#runs-hint", Static).update(hint)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        run = self.query_one(RunsTable).current()
        if run is not None:
            from .run import RunScreen
            self.app.push_screen(RunScreen("view", run_dir=run.path, clock=self.app.clock))

    def action_watch(self) -> None:
        run = self.query_one(RunsTable).current()
        if run is not None:
            from .run import RunScreen
            self.app.push_screen(RunScreen("watch", run_dir=run.path, clock=self.app.clock))

    def action_mark(self) -> None:
        self.query_one(RunsTable).toggle_mark()

    def action_compare(self) -> None:
        table = self.query_one(RunsTable)
        if len(table.marked) < 2:
            self.notify("mark two or more runs with space first")
            return
        from .compare import CompareScreen
        self.app.push_screen(CompareScreen([read_run(p, MAX_ROWS) for p in table.marked]))

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
