"""The validation confusion matrix as a coloured grid with class names (readable without colour too)."""

from rich.text import Text
from textual.widgets import Static

from lab_workbench.engine.runs import RunFolder


def render_confusion(matrix: list[list[int]], classes: list[str], width: int = 80, color: bool = True) -> Text:
    """Counts with rows = true class; the diagonal in green, errors in red, shaded by share of the row."""
    k = len(classes)
    if not matrix:
        return Text("no confusion matrix yet")
    biggest = max(max(r) for r in matrix) if matrix else 0
    cell = max(len(str(biggest)) + 1, 4)
    label_w = min(max(len(c) for c in classes), 12)
    cell = min(max(cell, min(max(len(c) for c in classes), 5) + 1), max(4, (width - label_w - 2) // max(k, 1)))
    t = Text()
    t.append(" " * (label_w + 1) + "".join(f"{c[:cell - 1]:>{cell}}" for c in classes) + "  (predicted)\n",
             style="bold")
    for i, row in enumerate(matrix):
        t.append(f"{classes[i][:label_w]:<{label_w}} ", style="bold")
        total = sum(row) or 1
        for j, v in enumerate(row):
            share = v / total
            # the errors stand out by reverse video and bold, not only by colour (NO_COLOR, 16 colours)
            if v == 0:
                style = "dim"
            elif i == j:
                style = ("green" if share > 0.5 else "yellow") if color else ""
            else:
                # never dimmer than a zero: NO_COLOR greys red to almost black, so there only bold reverse
                # (big errors) or bold underline (small ones) in the terminal's own colours
                style = ("bold reverse" if share > 0.1 else "bold underline") + (" red" if color else "")
            t.append(f"{v:>{cell}}", style=style)
        t.append("\n")
    t.append("rows: true class", style="dim")
    return t


def problem(matrix, classes) -> str | None:
    """Why a confusion matrix read from a file cannot be drawn, or None when it can."""
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        return "classes is not a list of names"
    k = len(classes)
    if not isinstance(matrix, list) or len(matrix) != k or not all(isinstance(r, list) and len(r) == k
                                                                     for r in matrix):
        return f"the matrix is not {k}x{k} for {k} classes"
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for r in matrix for v in r):
        return "a cell is not a count"
    return None


class ConfusionView(Static):
    """Shows the latest confusion matrix it was given (or what is wrong with it)."""

    def show(self, matrix: list[list[int]], classes: list[str], caption: str = "") -> None:
        why = problem(matrix, classes)
        if why is not None:
            self.update(Text(f"{RunFolder.CONFUSION} cannot be shown: {why}", style="bold red"))
            return
        text = render_confusion(matrix, classes, self.size.width or 80, color=not getattr(self.app, "no_color", False))
        if caption:
            text = Text(caption + "\n", style="bold") + text
        self.update(text)
