"""`j` in the runs browser: the output of its background jobs (evaluations, exports), newest first."""

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

STYLE = {"running": "bold yellow", "done": "bold green", "failed": "bold red"}


def render_jobs(jobs) -> Text:
    """Each job's title, state and every line it said."""
    if not jobs:
        return Text("no jobs yet: e evaluates the run under the cursor, x exports it")
    t = Text()
    for job in reversed(jobs):
        t.append(f"{job.title}  ", style="bold")
        t.append(f"{job.state}\n", style=STYLE.get(job.state, ""))
        for line in job.lines:
            t.append(f"  {line}\n")
        t.append("\n")
    return t


class JobsScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("q", "app.quit", "Quit")]

    def __init__(self, jobs: list) -> None:
        super().__init__()
        self.jobs = jobs  # the app's list: jobs still going keep adding lines to it

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with VerticalScroll(id="jobs-scroll"):
            yield Static(render_jobs(self.jobs), id="jobs")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "lab: jobs"
        self.query_one("#jobs-scroll").focus()
        self.set_interval(1.0, self.redraw)

    def redraw(self) -> None:
        self.query_one("#jobs", Static).update(render_jobs(self.jobs))
