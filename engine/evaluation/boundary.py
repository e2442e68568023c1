"""Decision regions of a classifier on 2-D points: a grid of class probabilities, and a text picture of it.

The grid is what `lab eval --boundary`, the run folder's boundary.json and labtui's boundary view share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRID = (64, 24)  # columns, rows: fits an 80x24 terminal with a frame
REGION = ".:-'~^"  # fill of each predicted class's region (class k: REGION[k % 6])
MAX_POINTS = 400  # test points drawn (a seeded sample of them)


@dataclass
class BoundaryGrid:
    """P(class) at the centre of each cell; row 0 is the top (largest y)."""

    x_range: tuple[float, float]
    y_range: tuple[float, float]
    probs: np.ndarray  # (rows, cols, classes)
    classes: list[str]
    points: np.ndarray  # (n, 2) raw coordinates of the points drawn
    labels: np.ndarray  # (n,) their true classes
    point_probs: np.ndarray  # (n, classes): the model's probabilities at each point
    epoch: int | None = None

    def to_dict(self) -> dict:
        return {"epoch": self.epoch, "x_range": list(self.x_range), "y_range": list(self.y_range),
                "classes": self.classes, "probs": np.round(self.probs, 3).tolist(),
                "points": np.round(self.points, 4).tolist(), "labels": self.labels.tolist(),
                "point_probs": np.round(self.point_probs, 4).tolist()}

    def with_rows(self, rows: int) -> "BoundaryGrid":
        """The same grid with at most `rows` rows (evenly picked), for a small terminal."""
        if rows >= self.probs.shape[0]:
            return self
        pick = np.linspace(0, self.probs.shape[0] - 1, max(rows, 2)).round().astype(int)
        return BoundaryGrid(self.x_range, self.y_range, self.probs[pick], self.classes, self.points, self.labels,
                            self.point_probs, self.epoch)

    @classmethod
    def from_dict(cls, d: dict) -> "BoundaryGrid":
        """From boundary.json; a ValueError/TypeError/KeyError for anything malformed."""
        probs = np.asarray(d["probs"], dtype=np.float64)
        points = np.asarray(d["points"], dtype=np.float64).reshape(-1, 2)
        labels = np.asarray(d["labels"], dtype=np.int64).reshape(-1)
        classes = [str(c) for c in d["classes"]]
        point_probs = np.asarray(d["point_probs"], dtype=np.float64).reshape(len(labels), len(classes))
        if probs.ndim != 3 or probs.shape[2] != len(classes) or len(points) != len(labels) or \
                not 0 < probs.shape[0] <= 200 or not 0 < probs.shape[1] <= 400 or not np.isfinite(probs).all():
            raise ValueError("boundary grid of the wrong shape")
        x0, x1 = (float(v) for v in d["x_range"])
        y0, y1 = (float(v) for v in d["y_range"])
        return cls((x0, x1), (y0, y1), probs, classes, points, labels, point_probs, d.get("epoch"))


def points_of(split, mean, std) -> np.ndarray:
    """A split's normalised (N,2,1,1) inputs back to raw (N,2) coordinates."""
    x = split.x.detach().reshape(len(split), 2).cpu().double().numpy()
    return x * np.asarray(std, dtype=np.float64) + np.asarray(mean, dtype=np.float64)


def decision_grid(model, classes: list[str], mean, std, points: np.ndarray, labels: np.ndarray,
                  size: tuple[int, int] = GRID, epoch: int | None = None) -> BoundaryGrid:
    """Evaluate `model` on a size[0] x size[1] grid spanning `points` (raw coordinates) plus a margin."""
    import torch
    from lab_workbench.engine.evaluation.metrics import predict
    cols, rows = size
    lo, hi = points.min(0), points.max(0)
    pad = (hi - lo) * 0.08 + 1e-6
    lo, hi = lo - pad, hi + pad
    xs = lo[0] + (np.arange(cols) + 0.5) * (hi[0] - lo[0]) / cols
    ys = hi[1] - (np.arange(rows) + 0.5) * (hi[1] - lo[1]) / rows
    gx, gy = np.meshgrid(xs, ys)
    coords = np.stack([gx.ravel(), gy.ravel()], 1)
    device = next(model.parameters()).device
    if len(points) > MAX_POINTS:
        keep = np.sort(np.random.default_rng(0).choice(len(points), MAX_POINTS, replace=False))
        points, labels = points[keep], labels[keep]
    x = (np.concatenate([coords, points]) - np.asarray(mean)) / np.asarray(std)
    x = torch.tensor(x, dtype=torch.float32, device=device).view(-1, 2, 1, 1)
    probs = torch.softmax(predict(model, x).float(), 1).cpu().numpy()
    return BoundaryGrid((float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1])),
                        probs[:rows * cols].reshape(rows, cols, -1), list(classes), np.asarray(points),
                        np.asarray(labels), probs[rows * cols:], epoch)


def predicted(probs: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """Class per cell: argmax, or for two classes P(class 1) >= threshold."""
    if threshold is not None and probs.shape[-1] == 2:
        return (probs[..., 1] >= threshold).astype(np.int64)
    return probs.argmax(-1)


def _edges(cls: np.ndarray) -> np.ndarray:
    """Cells whose class differs from the cell to the right or below: the drawn boundary."""
    edge = np.zeros(cls.shape, dtype=bool)
    edge[:, :-1] |= cls[:, :-1] != cls[:, 1:]
    edge[:-1, :] |= cls[:-1, :] != cls[1:, :]
    return edge


def boundary_lines(grid: BoundaryGrid, threshold: float | None = None, decide_at: float | None = None) -> list[str]:
    """The regions as text: class k's cells filled with REGION[k], '#' on the boundary at 0.5 (argmax),
    '=' on the boundary at `threshold` (two classes), test points as their class digit, 'X' where the
    model's decision (argmax, or P(class 1) >= decide_at) is wrong. Plain characters: readable without
    colour, over SSH, in any font."""
    rows, cols = grid.probs.shape[:2]
    cls = predicted(grid.probs)
    chars = np.array([[REGION[k % len(REGION)] for k in row] for row in cls], dtype="<U1")
    if threshold is not None and grid.probs.shape[-1] == 2 and threshold != 0.5:
        chars[_edges(predicted(grid.probs, threshold))] = "="
    chars[_edges(cls)] = "#"
    (x0, x1), (y0, y1) = grid.x_range, grid.y_range
    point_pred = predicted(grid.point_probs, decide_at)
    for (px, py), label, pred in zip(grid.points, grid.labels, point_pred):
        c = int((px - x0) / (x1 - x0) * cols)
        r = int((y1 - py) / (y1 - y0) * rows)
        if 0 <= r < rows and 0 <= c < cols:
            wrong = pred != label
            chars[r, c] = "X" if wrong else (str(label)[-1] if label < 10 else "o")
    frame = "+" + "-" * cols + "+"
    lines = [frame] + ["|" + "".join(row) + "|" for row in chars] + [frame]
    legend = "  ".join(f"{REGION[k % len(REGION)]} {name}" for k, name in enumerate(grid.classes[:6]))
    extra = f"  = boundary at {threshold:.3f}" if threshold is not None and len(grid.classes) == 2 and \
        threshold != 0.5 else ""
    lines.append(f"regions: {legend}  # boundary{' at 0.5' if extra else ''}{extra}  digits: test points, "
                 f"X: misclassified")
    lines.append(f"x {x0:.2f}..{x1:.2f}  y {y0:.2f}..{y1:.2f}" + (f"  epoch {grid.epoch}" if grid.epoch else ""))
    return lines
