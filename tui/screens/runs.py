"""Runs browser: every run folder under runs/ (a sweep's runs grouped), open one, or compare any number."""

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from lab_workbench.engine.runs import MAX_ROWS, RunFolder, read_run, read_runs

from ..jobs import Job, JobEnded, jobs_of, run_job
from ..widgets.runs_table import SORTS, RunsTable

REFRESH = 2.0  # seconds between two looks at runs/ while the browser shows: statuses and epochs move


class RunsScreen(Screen):
    # the footer shows what fits 80 columns; `?` lists every key
    BINDINGS = [
        Binding("enter", "open", "Open"),
        Binding("space", "mark", "Mark"),
        Binding("m", "compare", "Compare"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("o", "sort", "Sort"),
        Binding("O", "reverse", "Reverse sort", show=False),
        Binding("u", "clear_marks", "Unmark all", show=False),
        Binding("w", "watch", "Watch", show=False),
        Binding("d", "delete", "Delete", show=False),
        Binding("r", "resume", "Resume or extend", show=False),
        Binding("e", "evaluate", "Evaluate (as lab eval)", show=False),
        Binding("x", "export", "Export (as lab export)", show=False),
        Binding("J", "jobs", "Jobs: output of e and x", show=False),
        Binding("n", "app.new_run", "New run", show=False),
        Binding("f5", "reload", "Reload", show=False),
        Binding("escape", "back", "Back"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, runs_dir: str) -> None:
        super().__init__()
        self.runs_dir = runs_dir
        self.query_text = ""
        self.sort = "newest"
        self.reverse = False

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield RunsTable(id="runs")
        yield Input(placeholder="filter: part of a name, data set, model or status", id="runs-filter")
        yield Static("", id="runs-hint")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "lab: runs"
        self.query_one("#runs-filter").display = False
        self.action_reload()
        self.set_interval(REFRESH, self._refresh)

    def on_screen_resume(self) -> None:
        self.action_reload()

    def _refresh(self) -> None:
        """The timer's look at runs/: only while this screen shows (a run screen above it draws its own)."""
        if self.is_current:
            self._read_in_background()

    @work(thread=True, exclusive=True, group="runs-refresh")
    def _read_in_background(self) -> None:
        """Many run folders take a while to read: not on the thread that answers the keys."""
        runs = read_runs(self.runs_dir, MAX_ROWS)
        self.app.call_from_thread(self._show, runs)

    def action_reload(self) -> None:
        self._show(read_runs(self.runs_dir, MAX_ROWS))

    def _show(self, runs) -> None:
        if not self.is_attached:
            return
        self.query_one(RunsTable).set_runs(runs, self.query_text, self.sort, self.reverse)
        shown = f"filter {self.query_text!r}, " if self.query_text else ""
        order = f"{self.sort}, reversed" if self.reverse else self.sort
        self.sub_title = f"{self.runs_dir}/  ({shown}sorted by {order})"
        hint = ("space marks, m compares, e evaluates, x exports, J their output, ? all keys" if runs
                else f"no runs in {self.runs_dir}/ yet: n starts one")
        self.query_one("#runs-hint", Static).update(hint)

    def action_filter(self) -> None:
        box = self.query_one("#runs-filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self.action_reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.input.display = bool(self.query_text)  # an empty filter goes away
        self.query_one(RunsTable).focus()

    def action_sort(self) -> None:
        names = list(SORTS)
        self.sort = names[(names.index(self.sort) + 1) % len(names)]
        self.action_reload()

    def action_reverse(self) -> None:
        self.reverse = not self.reverse
        self.action_reload()

    def action_clear_marks(self) -> None:
        self.query_one(RunsTable).clear_marks()

    def action_resume(self) -> None:
        """Continue the run under the cursor from its last.pt, live here (as --resume does); a finished run
        is offered more epochs (as `lab train --resume RUN --epochs N`)."""
        run = self.query_one(RunsTable).current()
        if run is None:
            return
        if run.status == "running" or not RunFolder(run.path).last.is_file():
            why = "is running" if run.status == "running" else f"has no {RunFolder.LAST}"
            self.notify(f"{run.name} {why}: nothing to resume", severity="warning")
            return
        if run.status not in ("completed", "early-stopped"):
            self._resume(run)
            return
        from .ask import AskScreen
        done = run.rows[-1]["epoch"] if run.rows else run.epochs
        again = " (patience may stop it again at once)" if run.status == "early-stopped" else ""

        def answered(text: str | None) -> None:
            if text is None:
                return
            if not (text.isascii() and text.isdigit()) or int(text) <= done:  # "²" is a digit, not a number
                self.notify(f"--epochs: expected a whole number above {done}, got {text!r}", severity="error")
                return
            self._resume(run, int(text))
        self.app.push_screen(AskScreen(f"{run.name} is {run.status} after {done} epochs{again}. Train it on "
                                       f"to how many epochs in all?", str(2 * max(done, 1))), answered)

    def _resume(self, run, epochs: int | None = None) -> None:
        """The live screen of `run` resumed from its last.pt, to `epochs` in all when given."""
        from functools import partial

        from lab_workbench.engine.core.errors import LabError
        from lab_workbench.engine.runs.operations import plan_resume

        from .run import RunScreen
        given = {"runs_dir": str(run.path.parent), **({"epochs": epochs} if epochs else {})}
        try:
            plan = plan_resume(run.path, given)
        except (LabError, TypeError, ValueError) as e:
            self.notify(f"{RunFolder(run.path).config}: {e}", severity="error")
            return
        self.app.push_screen(RunScreen.live(plan.config, partial(self.app.trainer, resume=plan.run_dir),
                                            self.app.clock))

    def action_evaluate(self) -> None:
        """Evaluate the run under the cursor on its test split in the background (J shows the output)."""
        run = self.query_one(RunsTable).current()
        if run is not None:
            self._start_job(Job("eval", run.path))

    def action_export(self) -> None:
        """Export the run under the cursor in a format asked for, in the background."""
        from lab_workbench.engine.artifacts.export import FORMATS

        from .choose import ChooseScreen
        run = self.query_one(RunsTable).current()
        if run is None:
            return
        what = {"onnx": "ONNX (.onnx)", "safetensors": "weights only (.safetensors)",
                "torchscript": "TorchScript (.torchscript.pt)", "export": "torch.export (.pt2)"}

        def answered(fmt: str | None) -> None:
            if fmt:
                self._start_job(Job(f"export {fmt}", run.path))
        self.app.push_screen(ChooseScreen(f"Export {run.name} as:", [(f, what.get(f, f)) for f in FORMATS]),
                             answered)

    def _start_job(self, job: Job) -> None:
        """Run `job` on a daemon thread: quitting labtui never waits for an evaluation to end (a Textual
        thread worker runs in asyncio's default executor, which App.run() waits for on the way out)."""
        import threading
        jobs_of(self.app).append(job)
        self.notify(f"{job.title}: started (J shows its output)")
        threading.Thread(target=_job_thread, args=(job, self, self.app), name=f"lab {job.command}", daemon=True).start()

    def on_job_ended(self, message: JobEnded) -> None:
        _tell(self.app, message.job)
        self._refresh()  # an evaluation or an export wrote into the run

    def action_jobs(self) -> None:
        from .jobs import JobsScreen
        self.app.push_screen(JobsScreen(jobs_of(self.app)))

    def action_delete(self) -> None:
        """Delete the run under the cursor after a yes; never a live run (one whose folder is locked)."""
        run = self.query_one(RunsTable).current()
        if run is None:
            return
        if run.status == "running":
            self.notify(f"{run.name} is running: stop it before deleting it", severity="warning")
            return
        from .confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(run.path)
        self.app.push_screen(ConfirmScreen(f"Delete {run.name} and every file in it?"), answered)

    def _delete(self, path) -> None:
        from lab_workbench.engine.core.errors import LabError
        from lab_workbench.engine.runs.operations import delete_run
        try:
            delete_run(path, self.runs_dir)
        except LabError as e:
            self.notify(str(e), severity="error")
        self.action_reload()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        """A past run as it ended; a running one followed live, as `w` does."""
        run = self.query_one(RunsTable).current()
        if run is not None:
            from .run import RunScreen
            live = run.status == "running"
            self.app.push_screen(RunScreen.watch(run.path) if live else RunScreen.view(run.path))

    def action_watch(self) -> None:
        run = self.query_one(RunsTable).current()
        if run is not None:
            from .run import RunScreen
            self.app.push_screen(RunScreen.watch(run.path))

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
        box = self.query_one("#runs-filter", Input)
        if box.has_focus or self.query_text:  # esc leaves the filter first
            box.value, self.query_text, box.display = "", "", False
            self.query_one(RunsTable).focus()
            self.action_reload()
        elif len(self.app.screen_stack) > 2:
            self.app.pop_screen()


def _job_thread(job: Job, screen: RunsScreen, app) -> None:
    """Do the job, then say how it went: to the browser that started it, else (gone) to the app (passed in:
    `screen.app` means nothing on this thread)."""
    run_job(job)
    if screen.post_message(JobEnded(job)):
        return
    try:
        app.call_from_thread(_tell, app, job)
    except RuntimeError:
        pass  # the app has ended meanwhile: nobody to tell


def _tell(app, job: Job) -> None:
    app.notify(f"{job.title}: {job.said[:200]}", severity="information" if job.state == "done" else "error",
               timeout=15)
