"""`lab eval`: metrics, confusion matrix, ROC and error analysis for a trained model."""

import json
import math
from pathlib import Path
from typing import Annotated, Optional

import typer

from lab_workbench.engine.core.errors import ConfigError

from .common import AllowExternalH5, Checkpoint, RunsDir, TrustCode, json_option, png_option
from .completion import run_names
from .options import setting_option
from .resolved import announce, check_finite
from .plots import use_color
from .textviz import confusion_grid, image_grid, print_lines, table, to_display


def f4(v) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.4f}"


def render_report(r, top_k: int = 5, normalize: bool = False) -> str:
    """The text report of one EvalReport."""
    out = [f"{r.split}: {len(r.y_true)} samples  accuracy {r.accuracy:.4f}  mean loss {r.loss:.4f}"
           + (f"  top-5 accuracy {r.top5:.4f}" if r.top5 is not None else "")]
    if r.threshold is not None:
        out[0] += f"  (threshold {r.threshold:g} on P({r.classes[1]}))"
    roc = r.roc()
    pc = r.per_class()
    rows = [[c["class"], f4(c["precision"]), f4(c["recall"]), f4(c["f1"]), c["support"], f4(roc[i][3])]
            for i, c in enumerate(pc["classes"])]
    for avg in ("macro", "weighted"):
        a = pc[avg]
        rows.append([f"{avg} avg", f4(a["precision"]), f4(a["recall"]), f4(a["f1"]), a["support"],
                     f4(r.macro_auc()) if avg == "macro" else ""])
    out += ["", table(rows, ["class", "precision", "recall", "f1", "support", "roc_auc"])]
    out += ["", confusion_grid(r.confusion(normalize), r.classes, normalize)]
    pairs = r.most_confused(top_k)
    if pairs:
        out += ["", "most confused (true -> predicted: count): "
                + ", ".join(f"{r.classes[t]}->{r.classes[p]}: {c}" for t, p, c in pairs)]
    out.append(f"ROC AUC (one-vs-rest) macro average: {f4(r.macro_auc())}")
    y = r.tuned
    if y is not None and len(roc[1][2]):
        pts = [[f"{t:.4f}", f4(tpr), f4(fpr)] for t, tpr, fpr in r.operating_points()]
        here = r.at_threshold(y["threshold"])
        out += ["", f"ROC operating points on {r.split} (positive class {r.classes[1]!r}):",
                table(pts, ["threshold", "tpr", "fpr"], ">>>"),
                f"Youden's J, chosen on the {y['chosen_on']} split, is largest ({y['j']:.4f}) at threshold "
                f"{y['threshold']:.4f}; on {r.split} it gives tpr {f4(here['tpr'])}, fpr {f4(here['fpr'])}  "
                f"(apply it with --threshold {y['threshold']:.4f})"]
    return "\n".join(out)


def _images(ds_split, data, rows):
    x = data.denormalize(ds_split.take(rows)).cpu().numpy()
    return [to_display(im) for im in x]


def _history(loaded) -> list[dict]:
    """The run's epoch rows (none for a file outside a run folder)."""
    from lab_workbench.engine.runs import RunFolder
    return RunFolder(loaded.run_dir).read_metrics() if loaded.run_dir is not None else []


def _print_curves(rows: list[dict]) -> None:
    from .plots import line_chart
    if not rows:
        print("\n(no training curves: not a run folder, or no epoch finished)")
        return
    x = [r["epoch"] for r in rows]
    for key, title, scale in (("loss", "loss", 1), ("acc", "accuracy (%)", 100)):
        series = {"train": [scale * r[f"train_{key}"] for r in rows], "val": [scale * r[f"val_{key}"] for r in rows]}
        print()
        print(line_chart(series, title, x=x, height=12))


Target = Annotated[str, typer.Argument(autocompletion=run_names,
                                        help="run folder, 'latest', a checkpoint (.pt) or an export "
                                             "(.safetensors, .pt2, .onnx, TorchScript)")]
Split = Annotated[str, typer.Option("--split", help="train, val or test")]
Splits = Annotated[Optional[str], typer.Option("--splits", help="several splits, e.g. train,val,test")]
DataSet = Annotated[Optional[str], typer.Option("--dataset", "-d", help="evaluate on another data set")]
DataFile = Annotated[Optional[str], typer.Option("--data", help="evaluate on an HDF5 file")]
Classes = Annotated[Optional[str], typer.Option("--classes", help="with --dataset/--data: use these classes")]
Normalize = Annotated[bool, typer.Option("--normalize", help="row-normalise the confusion matrix")]
TopK = Annotated[int, typer.Option("--top-k", help="how many most-confused pairs to list")]
Threshold = Annotated[Optional[float], typer.Option("--threshold", help="two-class tasks: P(class 1) threshold")]
ThresholdSplit = Annotated[Optional[str], typer.Option(
    "--threshold-split", help="two-class tasks: the split that chooses Youden's threshold [default: val, or "
                              "train without one]")]
TopLosses = Annotated[int, typer.Option("--top-losses", help="list the N highest-loss samples")]
Gallery = Annotated[Optional[str], typer.Option("--gallery", help="TP/FP/FN images of a class (index or name)")]
Png = png_option("also save figures as PNG files here, the training curves as results.png (needs lab-workbench[plots])")
Curves = Annotated[bool, typer.Option("--curves", help="draw the run's loss and accuracy curves in the terminal")]
Boundary = Annotated[bool, typer.Option("--boundary", help="2-D point runs (moons, circles, blobs): draw the "
                                                          "decision regions and the points (two classes: also "
                                                          "the boundary at the chosen threshold)")]
Json = json_option("print metrics.json to stdout instead of tables")


def eval_command(target: Target = "latest", checkpoint: Checkpoint = "best", split: Split = "test",
                 splits: Splits = None, dataset: DataSet = None, data: DataFile = None,
                 data_dir: Optional[str] = setting_option("data_dir"),
                 classes: Classes = None, normalize: Normalize = False, top_k: TopK = 5,
                 threshold: Threshold = None, threshold_split: ThresholdSplit = None, top_losses: TopLosses = 0,
                 gallery: Gallery = None, png: Png = None, curves: Curves = False, boundary: Boundary = False,
                 json_out: Json = False, device: str = setting_option("device"), runs_dir: RunsDir = "runs",
                 trust_code: TrustCode = False, allow_external_h5: AllowExternalH5 = False):
    """Evaluate a trained model: accuracy, per-class metrics, confusion matrix, ROC, error analysis."""
    names = _split_names(split, splits)
    wanted = _check_plain_flags(dataset, data, classes, top_losses, top_k, threshold, threshold_split)
    from lab_workbench.engine.runtime import resolve_device  # torch, once every flag that needs no model is checked
    from lab_workbench.engine.artifacts import load_eval_data, load_model

    dev = resolve_device(device)
    loaded = load_model(target, checkpoint, dev, runs_dir, trust_code)
    check_finite(loaded)
    announce(target, loaded, json_out)
    data = load_eval_data(loaded, dev, dataset, data, data_dir, wanted, allow_external_h5)
    gallery_k = None if gallery is None else _class_index(gallery, data.classes)  # before any output
    _check_flags(target, loaded, data, threshold, boundary)
    from lab_workbench.engine.artifacts.run_outputs import evaluate_model
    evaluation = evaluate_model(loaded, data, names, threshold, threshold_split)  # writes the eval folder
    reports = evaluation.reports
    if json_out:
        metrics = {n: r.metrics() for n, r in reports.items()}
        print(json.dumps(metrics[names[0]] if len(names) == 1 else metrics, indent=2))
        return
    _print_reports(loaded, data, reports, top_k, normalize)
    last, split_data = reports[names[-1]], data.split(names[-1])
    if top_losses > 0:
        _print_top_losses(last, data, split_data, top_losses)
    if gallery is not None:
        _print_gallery(last, data, split_data, gallery_k)
    grid = _boundary(loaded, data, split_data, last) if boundary else None
    history = _history(loaded)
    if curves:
        _print_curves(history)
    if png is not None:
        _save_figures(png, loaded, data, split_data, last, gallery_k, grid, history)
    print(f"\nwrote {evaluation.files}")


def _split_names(split: str, splits: str | None) -> list[str]:
    names = [s.strip() for s in (splits or split).split(",") if s.strip()]
    bad = [s for s in names if s not in ("train", "val", "test")]
    if bad or not names:
        raise ConfigError(f"--split{'s' if splits else ''}: expected train, val or test, got "
                          f"{bad[0] if bad else ''!r}")
    return names


def _check_plain_flags(dataset, data, classes, top_losses, top_k, threshold, threshold_split):
    """The flags that need no model, checked before torch is imported; returns the --classes labels."""
    from lab_workbench.engine.settings.config import SETTINGS_BY_NAME
    if top_losses < 0 or top_k < 0:
        raise ConfigError(f"--top-losses/--top-k: expected a number >= 0, got {min(top_losses, top_k)}")
    if threshold_split is not None and threshold_split not in ("train", "val", "test"):
        raise ConfigError(f"--threshold-split: expected train, val or test, got {threshold_split!r}")
    if threshold is not None and not 0 <= threshold <= 1:  # also refuses nan
        raise ConfigError(f"--threshold: expected a probability in [0, 1], got {threshold}")
    for flag, value in (("--dataset", dataset), ("--data", data)):
        if value is not None and not value.strip():
            raise ConfigError(f"{flag}: expected a non-empty value, got {value!r}")
    if dataset is not None and data is not None:
        raise ConfigError(f"--dataset {dataset}: ignored with --data {data} (the HDF5 file is the data set); "
                          f"drop one")
    wanted = SETTINGS_BY_NAME["classes"].parse(classes)
    if wanted is not None:
        SETTINGS_BY_NAME["classes"].check_value(wanted)
        if dataset is None and data is None:
            raise ConfigError("--classes: needs --dataset or --data (on the run's own data set the run's "
                              "classes are used)")
    return wanted


def _check_flags(target, loaded, data, threshold, boundary) -> None:
    """The flags that depend on the model and its data, checked before anything is evaluated."""
    from lab_workbench.engine.data.points import is_points
    if threshold is not None and data.num_classes != 2:
        raise ConfigError("--threshold: needs a two-class task (--classes A,B) and a value in [0, 1]")
    if boundary and not is_points(loaded.input_shape):
        raise ConfigError(f"--boundary: needs a run on 2-D points (moons, circles, blobs); {target} has inputs "
                          f"of shape {list(loaded.input_shape)}")


def _print_reports(loaded, data, reports: dict, top_k: int, normalize: bool) -> None:
    epoch = f" (epoch {loaded.epoch})" if loaded.epoch is not None else ""
    print(f"model {loaded.path}{epoch}: {loaded.config.model} on {data.name}, {data.num_classes} classes")
    for r in reports.values():
        print()
        print(render_report(r, top_k, normalize))
    if len(reports) > 1:
        rows = [[n, f4(r.accuracy), f4(r.loss), f4(r.per_class()["macro"]["f1"])] for n, r in reports.items()]
        print("\n" + table(rows, ["split", "accuracy", "loss", "macro f1"]))


def _print_top_losses(last, data, split_data, top_losses: int) -> None:
    rows_i = last.top_losses(top_losses)
    rows = [[int(last.index[i]), data.classes[last.y_true[i]], data.classes[last.y_pred[i]],
             f4(float(last.probs[i, last.y_true[i]])), f4(float(last.losses[i]))] for i in rows_i]
    print("\n" + f"top {len(rows)} losses ({last.split}):")
    print(table(rows, ["index", "true", "predicted", "p(true)", "loss"]))
    caps = [f"#{r[0]} {r[1]}->{r[2]}" for r in rows]
    print_lines(image_grid(_images(split_data, data, rows_i[:12]), caps[:12], use_color()))


def _print_gallery(last, data, split_data, k: int) -> None:
    for title, rows_i in last.gallery(k).items():
        print(f"\n{title} of {data.classes[k]!r} ({len(rows_i)}):")
        shown = rows_i[:6]
        caps = [f"#{int(last.index[i])} {data.classes[last.y_true[i]]}->{data.classes[last.y_pred[i]]} "
                f"{last.confidence[i]:.2f}" for i in shown]
        print_lines(image_grid(_images(split_data, data, shown), caps, use_color()) or ["(none)"])


def _save_figures(png: Path, loaded, data, split_data, last, gallery_k, grid, history) -> None:
    from .png import save_boundary, save_curves, save_eval_figures
    files = save_eval_figures(last, png, data, split_data, gallery_k)
    if grid is not None:
        files.append(save_boundary(grid, png / "boundary.png", _threshold_of(last), last.threshold))
    if history:
        files.append(save_curves(history, png / "results.png", str(loaded.run_dir)))
    print(f"\nwrote {len(files)} PNG files to {png}")


def _threshold_of(report) -> float | None:
    """Two classes: the threshold the report applies (--threshold), else Youden's as tuned on another split."""
    if len(report.classes) != 2:
        return None
    if report.threshold is not None:
        return report.threshold
    return report.tuned["threshold"] if report.tuned else None


def _boundary(loaded, data, split, report):
    """Print the decision regions of a 2-D point run over `split`; returns the grid (for --png)."""
    from lab_workbench.engine.evaluation import boundary_lines, decision_grid, points_of
    grid = decision_grid(loaded.model, data.classes, loaded.facts["mean"], loaded.facts["std"],
                         points_of(split, loaded.facts["mean"], loaded.facts["std"]), split.y.cpu().numpy())
    t = _threshold_of(report)
    print(f"\ndecision regions ({report.split} points)" + (f", threshold {t:.3f} and 0.5" if t is not None else ""))
    print("\n".join(boundary_lines(grid, t, report.threshold)))
    return grid


def _class_index(value: str, classes: list[str]) -> int:
    if value in classes:
        return classes.index(value)
    try:
        k = int(value)
    except ValueError:
        k = -1
    if not 0 <= k < len(classes):
        raise ConfigError(f"--gallery: expected a class index 0..{len(classes) - 1} or a name ({', '.join(classes)}), got {value!r}")
    return k
