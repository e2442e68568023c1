"""The decision regions of a 2-D point run (moons, circles, blobs), redrawn after each epoch."""

from rich.text import Text
from textual.widgets import Static

from lab_workbench.engine.evaluation import BoundaryGrid, boundary_lines
from lab_workbench.engine.runs import RunFolder

STYLES = {"#": "bold", "=": "bold", "X": "bold reverse"}  # what matters stands out without colour too


def render_boundary(grid: dict | None, max_rows: int = 14) -> Text:
    """boundary.json (a BoundaryGrid dict) as text; a malformed one says so instead of failing."""
    if not grid:
        return Text("no decision boundary: this view is for runs on 2-D points (--dataset moons, circles, blobs)")
    try:
        lines = boundary_lines(BoundaryGrid.from_dict(grid).with_rows(max_rows))
    except (KeyError, TypeError, ValueError, IndexError):
        return Text(f"{RunFolder.BOUNDARY}: unreadable (not a decision grid)", style="bold")
    t = Text()
    for line in lines:
        for ch in line:
            t.append(ch, style=STYLES.get(ch, "bold" if ch.isdigit() else "dim" if ch in ".:-'~^" else ""))
        t.append("\n")
    return t


class BoundaryView(Static):
    def show(self, grid: dict | None) -> None:
        self.update(render_boundary(grid))
