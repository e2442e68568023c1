"""PNG figures for `--png` (matplotlib, from the optional `lab-workbench[plots]` extra)."""

from pathlib import Path

import numpy as np

from lab_workbench.engine.core.errors import ConfigError

from .textviz import to_display


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_eval_figures(report, out_dir, data, split, gallery_class=None) -> list[Path]:
    """Confusion matrix, ROC curves, confidence histograms and (optionally) a class gallery."""
    plt = _plt()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    fig, ax = plt.subplots(figsize=(6, 5))
    cm = report.confusion(normalize=True)
    im = ax.imshow(cm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(report.classes)), report.classes, rotation=90)
    ax.set_yticks(range(len(report.classes)), report.classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.colorbar(im)
    files.append(_save(fig, out / f"confusion_{report.split}.png"))
    fig, ax = plt.subplots(figsize=(6, 5))
    for k, (fpr, tpr, _, auc) in report.roc().items():
        if len(fpr):
            ax.plot(fpr, tpr, label=f"{report.classes[k]} ({auc:.3f})")
    ax.plot([0, 1], [0, 1], "k--", lw=0.5)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(fontsize=7)
    files.append(_save(fig, out / f"roc_{report.split}.png"))
    fig, ax = plt.subplots(figsize=(6, 4))
    right = report.y_true == report.y_pred
    ax.hist([report.confidence[right], report.confidence[~right]], bins=20, label=["correct", "wrong"])
    ax.set_xlabel("confidence of the prediction")
    ax.legend()
    files.append(_save(fig, out / f"confidence_{report.split}.png"))
    if gallery_class is not None:
        groups = report.gallery(gallery_class)
        fig, axes = plt.subplots(3, 8, figsize=(12, 5))
        for row, (title, rows) in zip(axes, groups.items()):
            images = data.denormalize(split.take(rows[:8])).cpu().numpy() if rows else []
            for j, ax in enumerate(row):
                ax.axis("off")
                if j < len(images):
                    ax.imshow(to_display(images[j]), cmap="gray", vmin=0, vmax=1)
                    ax.set_title(f"{report.classes[report.y_pred[rows[j]]]}", fontsize=7)
            row[0].set_title(title, fontsize=8, loc="left")
        files.append(_save(fig, out / f"gallery_{report.classes[gallery_class]}_{report.split}.png".replace("/", "-")))
    return files


def _save(fig, path: Path) -> Path:
    """Write the figure through a temp file renamed over a regular file only (never a symlink or a device):
    a full disk leaves no half PNG and gives one error line."""
    from lab_workbench.engine.core.files import atomic_write
    fig.tight_layout()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"), durable=False)
    except OSError as e:
        raise ConfigError(f"--png: cannot write {path} ({e.strerror or e})") from None
    finally:
        _plt().close(fig)
    return path


def save_array_grid(arrays: list[np.ndarray], titles: list[str], path: Path, cmap="gray") -> Path:
    """A grid of 2-D arrays (filters, feature maps) as one PNG."""
    plt = _plt()
    n = len(arrays)
    cols = min(8, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.5, rows * 1.6), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(arrays[i], cmap=cmap)
            ax.set_title(titles[i], fontsize=7)
    return _save(fig, Path(path))


def save_curves(rows: list[dict], path: Path, title: str = "") -> Path:
    """results.png: loss and accuracy (%) per epoch, train against validation, as Ultralytics draws them."""
    plt = _plt()
    epochs = [r["epoch"] for r in rows]
    fig, (loss, acc) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((loss, "loss", "loss"), (acc, "acc", "accuracy (%)")):
        scale = 100 if key == "acc" else 1
        ax.plot(epochs, [scale * r[f"train_{key}"] for r in rows], marker=".", label="train")
        ax.plot(epochs, [scale * r[f"val_{key}"] for r in rows], marker=".", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, Path(path))


def save_compare(runs, diff: list[str], metric: str, log_y: bool, alpha: float, out_dir) -> list[Path]:
    """compare_<metric>.png (curves overlaid) and, for runs differing in one numeric field, sweep_<field>.png."""
    from lab_workbench.engine.runs import final_against_field, points, smooth
    plt = _plt()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scale = 100 if metric.endswith("_acc") else 1
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in runs:
        epochs, values = points(r.rows, metric)
        ax.plot(epochs, smooth([scale * v for v in values], alpha), marker=".", label=r.name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric + (" (%)" if scale == 100 else ""))
    ax.xaxis.get_major_locator().set_params(integer=True)
    if log_y:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    fig.tight_layout()
    files = [_save(fig, out / f"compare_{metric}.png")]
    finals = [r.rows[-1].get(metric) if r.rows else None for r in runs]
    curve = final_against_field([r.config for r in runs], finals, diff[0]) if len(diff) == 1 else None
    if curve is not None:
        pairs, log = curve
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot([p[0] for p in pairs], [scale * p[1] for p in pairs], marker="o")
        if log:
            ax.set_xscale("log")
        ax.set_xlabel(diff[0])
        ax.set_ylabel(f"final {metric}" + (" (%)" if scale == 100 else ""))
        ax.grid(alpha=0.3)
        fig.tight_layout()
        files.append(_save(fig, out / f"sweep_{diff[0]}.png"))
    return files


def save_boundary(grid, path: Path, threshold: float | None = None, decide_at: float | None = None) -> Path:
    """boundary.png: the predicted regions, the 0.5 boundary (and the threshold's, two classes), the points."""
    import numpy as np
    from lab_workbench.engine.evaluation import predicted
    plt = _plt()
    (x0, x1), (y0, y1) = grid.x_range, grid.y_range
    rows, cols, k = grid.probs.shape
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.imshow(predicted(grid.probs), extent=(x0, x1, y0, y1), origin="upper", cmap="Pastel1", vmin=0,
              vmax=8, aspect="auto", interpolation="nearest")
    xs = np.linspace(x0, x1, cols)
    ys = np.linspace(y1, y0, rows)
    if k == 2:
        ax.contour(xs, ys, grid.probs[..., 1], levels=[0.5], colors="black", linewidths=1.5)
        if threshold is not None and threshold != 0.5:
            cs = ax.contour(xs, ys, grid.probs[..., 1], levels=[threshold], colors="black", linestyles="--")
            ax.clabel(cs, fmt={threshold: f"t={threshold:.2f}"})
    ax.scatter(grid.points[:, 0], grid.points[:, 1], c=grid.labels, cmap="Set1", vmin=0, vmax=8, s=12,
               edgecolors="black", linewidths=0.3)
    wrong = predicted(grid.point_probs, decide_at) != grid.labels
    ax.scatter(grid.points[wrong, 0], grid.points[wrong, 1], marker="x", c="black", s=30, label="misclassified")
    ax.legend(loc="upper right")
    ax.set_title("decision regions" + (f" (dashed: threshold {threshold:.2f})" if threshold not in (None, 0.5)
                                       and k == 2 else ""))
    fig.tight_layout()
    return _save(fig, Path(path))
