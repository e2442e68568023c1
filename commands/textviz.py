"""Text renderings shared by the commands: aligned grids and images as terminal block art."""

from __future__ import annotations

import shutil

import numpy as np

RAMP = " .:-=+*#%@"


def short(name: str, width: int) -> str:
    return name if len(name) <= width else name[: width - 1] + "~"


def confusion_grid(cm: np.ndarray, classes: list[str], normalize: bool = False, width: int | None = -1) -> str:
    """Rows = true class, columns = predicted class, with class names on both axes; the column names are cut
    to fit `width` (default: the terminal's, see terminal_width), never the numbers."""
    k = len(classes)
    cell = max(4, min(7, max(len(c) for c in classes)) + 1) if not normalize else 6
    numbers = 5 if normalize else (len(str(int(cm.max()))) + 1 if cm.size else 4)
    cell = max(cell, numbers)
    row_w = min(14, max(len(c) for c in classes))
    width = terminal_width() if width == -1 else width
    if width:
        row_w = min(row_w, max(6, width - 1 - k * numbers))
        cell = max(numbers, min(cell, (width - row_w - 1) // k))
    head = " " * (row_w + 1) + "".join(f"{short(c, cell - 1):>{cell}}" for c in classes)
    lines = ["true \\ predicted", head]
    for i in range(k):
        cells = "".join(f"{cm[i, j]:>{cell}.2f}" if normalize else f"{int(cm[i, j]):>{cell}d}" for j in range(k))
        lines.append(f"{short(classes[i], row_w):<{row_w}} {cells}")
    return "\n".join(lines)


def terminal_width() -> int | None:
    """The width tables fit in: $COLUMNS, else the terminal's; None when stdout is not a terminal (a pipe gets
    every column: a script should not lose fields to a guessed width; it may set COLUMNS)."""
    import os
    import sys
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return shutil.get_terminal_size((80, 24)).columns if sys.stdout.isatty() else None


def middle_cut(text: str, width: int) -> str:
    """'digits-mlp-20261129-201017' -> 'digits-~-201017': both ends of a name tell runs apart."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "~" + text[len(text) - (width - 1 - head):]


def table(rows: list[list], header: list[str], aligns: str | None = None, width: int | None = -1,
          keep: list[int] | None = None, shrink: int | None = None) -> str:
    """A plain aligned table; aligns is a string of '<' and '>' per column.

    It fits in `width` columns (default: terminal_width(); None: no limit): the columns last in `keep` (column
    indices, most important first; default: left to right) are dropped first, never the first two kept, and
    then column `shrink` (default: the first) is cut in the middle, down to 8 characters."""
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    aligns = aligns or "<" + ">" * (len(header) - 1)
    width = terminal_width() if width == -1 else width
    shown = _fit(cells, width, list(keep if keep is not None else range(len(header))), shrink or 0)
    cells = [[r[i] for i in shown] for r in cells]
    aligns = "".join(aligns[i] for i in shown)
    widths = [max(len(r[i]) for r in cells) for i in range(len(shown))]
    out = []
    for n, r in enumerate(cells):
        out.append("  ".join(f"{c:{a}{w}}" for c, a, w in zip(r, aligns, widths)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _fit(cells: list[list[str]], width: int | None, keep: list[int], shrink: int) -> list[int]:
    """The columns to show (in their order), after cutting the shrink column's cells in place to fit."""
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    shown = set(range(len(widths)))

    def total():
        return sum(widths[i] for i in shown) + 2 * (len(shown) - 1)
    if width is None:
        return sorted(shown)
    unranked = [i for i in reversed(range(len(widths))) if i not in keep]
    for i in unranked + list(reversed(keep[2:])):  # least important first
        if total() <= width:
            break
        shown.discard(i)
    if total() > width and shrink in shown:
        cut = max(8, widths[shrink] - (total() - width))
        for r in cells:
            r[shrink] = middle_cut(r[shrink], cut)
        widths[shrink] = max(len(r[shrink]) for r in cells)
    return sorted(shown)


def to_display(x: np.ndarray) -> np.ndarray:
    """(C,H,W) array in [0,1] -> (H,W) gray or (H,W,3) colour, clipped."""
    x = np.clip(np.asarray(x, dtype=np.float32), 0, 1)
    if x.ndim == 3 and x.shape[0] == 1:
        return x[0]
    if x.ndim == 3:
        return np.moveaxis(x[:3], 0, -1)
    return x


def block_art(img: np.ndarray, color: bool = False, max_width: int = 28):
    """An image as lines of text: a grayscale ramp (two pixel rows per line), or colour half-blocks.

    Returns a list of rich Text objects when `color` and the image is RGB, else a list of str.
    """
    h, w = img.shape[:2]
    step = max(1, int(np.ceil(w / max_width)))
    img = img[::step, ::step]
    if img.shape[0] % 2:
        img = np.concatenate([img, np.zeros_like(img[:1])])
    if color and img.ndim == 3:
        from rich.text import Text
        lines = []
        for r in range(0, img.shape[0], 2):
            t = Text()
            for c in range(img.shape[1]):
                top, bottom = (img[r, c] * 255).astype(int), (img[r + 1, c] * 255).astype(int)
                t.append("\u2580", style=f"rgb({top[0]},{top[1]},{top[2]}) on rgb({bottom[0]},{bottom[1]},{bottom[2]})")
            lines.append(t)
        return lines
    gray = img.mean(-1) if img.ndim == 3 else img
    pairs = (gray[0::2] + gray[1::2]) / 2
    idx = np.clip((pairs * (len(RAMP) - 1)).round().astype(int), 0, len(RAMP) - 1)
    return ["".join(RAMP[i] for i in row) for row in idx]


def image_grid(images: list[np.ndarray], captions: list[str], color: bool = False, width: int | None = None):
    """Several images per row with captions below; returns lines (str or rich Text)."""
    width = width or shutil.get_terminal_size((80, 24)).columns
    arts = [block_art(im, color) for im in images]
    if not arts:
        return []
    cell = max(max(len(a[0]) for a in arts), max(map(len, captions), default=0)) + 2
    per_row = max(1, width // cell)
    out = []
    for start in range(0, len(arts), per_row):
        group, caps = arts[start:start + per_row], captions[start:start + per_row]
        height = max(len(a) for a in group)
        for r in range(height):
            if any(not isinstance(a[0], str) for a in group):
                from rich.text import Text
                line = Text()
                for a in group:
                    piece = a[r] if r < len(a) else " " * len(a[0])
                    line.append(piece if isinstance(piece, Text) else Text(piece))
                    line.append(" " * (cell - len(a[0])))
                out.append(line)
            else:
                out.append("".join(f"{(a[r] if r < len(a) else ''):<{cell}}" for a in group).rstrip())
        out.append("".join(f"{short(c, cell - 1):<{cell}}" for c in caps).rstrip())
        out.append("")
    return out


def print_lines(lines) -> None:
    """Print str lines as they are and rich Text lines (colour block art) through rich."""
    console = None
    for line in lines:
        if isinstance(line, str):
            print(line)
            continue
        if console is None:
            from rich.console import Console
            console = Console(highlight=False, soft_wrap=True)
        console.print(line)


def count_bars(labels: list[str], counts: list[int], width: int = 40) -> list[str]:
    """One bar per class, drawn to scale (the largest count fills `width`), with the number beside it."""
    top = max(counts) if counts else 0
    name_w = min(max((len(str(n)) for n in labels), default=1), 20)
    lines = []
    for name, n in zip(labels, counts):
        eighths = round(8 * width * n / top) if top else 0
        bar = "\u2588" * (eighths // 8) + ("", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a",
                                            "\u2589")[eighths % 8]
        lines.append(f"  {str(name)[:name_w]:>{name_w}} {bar:<{width}} {n:,}")
    return lines

