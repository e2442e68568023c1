"""What `lab eval` and `lab export` make of a trained model, for both faces (the CLI and the runs browser's
`e` and `x`): the eval folder a checkpoint or an export reports into, the reports of the splits asked for
written there, and an export checked against the model. Nothing here prints: each returns what it wrote.

Imports of torch wait inside the functions, so that a bad --format is refused before torch loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lab_workbench.engine.artifacts import FORMATS
from lab_workbench.engine.core.errors import ConfigError

SPLITS = ("train", "val", "test")
EXPORT_BATCH = 16  # test images that check an export against the model


def eval_folder(loaded) -> Path:
    """RUN_DIR/eval for the run's best.pt; RUN_DIR/eval/<file name> for last.pt or an export, so that
    evaluating one never overwrites the files of another; FILE-eval/ beside a file outside a run."""
    from lab_workbench.engine.core.files import safe_folder
    from lab_workbench.engine.runs import RunFolder
    if loaded.run_dir is None:
        return loaded.path.with_name(loaded.path.name + "-eval")
    run = RunFolder(loaded.run_dir)
    folder = run.eval_folder()  # a symlinked run or eval/ would take files outside the run: refused
    if loaded.path == run.best:
        return folder
    return safe_folder(folder / loaded.path.name)


@dataclass
class Evaluation:
    """The reports of a model on some splits, each written to folder/<split>/."""
    loaded: object  # the LoadedModel evaluated
    data: object  # the Dataset it was evaluated on
    reports: dict  # split name -> EvalReport, in the order asked
    folder: Path

    @property
    def files(self) -> str:
        """What was written, for a "wrote ..." line."""
        return (f"{self.folder}/{{{','.join(self.reports)}}}/metrics.json, per_class.csv, confusion.csv, roc.csv, "
                f"predictions.csv")


def check_splits(splits) -> list[str]:
    """The split names, each train, val or test (ConfigError naming --split otherwise)."""
    names = list(splits)
    bad = [s for s in names if s not in SPLITS]
    if bad or not names:
        raise ConfigError(f"--split: expected train, val or test, got {bad[0] if bad else ''!r}")
    return names


def evaluate_model(loaded, data, splits=("test",), threshold: float | None = None,
                   threshold_split: str | None = None) -> Evaluation:
    """Evaluate `loaded` on each split of `data` and write each report to its eval folder; two-class tasks
    also get Youden's threshold, chosen on `threshold_split`."""
    from lab_workbench.engine.evaluation import evaluate, write_report
    names = check_splits(splits)
    base = eval_folder(loaded)  # before the work: a symlinked eval/ is refused at once
    for name in names:
        if len(data.split(name)) == 0:
            raise ConfigError(f"--split {name}: the split is empty (the run used --val-split 0?)")
    reports = {name: evaluate(loaded.model, data.split(name), data.classes, name, threshold) for name in names}
    tuned = _tuned_threshold(loaded.model, data, reports, threshold_split)
    for name in names:
        reports[name].tuned = tuned
        write_report(reports[name], base / name)
    return Evaluation(loaded, data, reports, base)


def _tuned_threshold(model, data, reports: dict, split: str | None) -> dict | None:
    """Two-class tasks: Youden's threshold chosen on `split` (default: val, else train), never on test unless
    asked: choosing it on the split it is then judged on would flatter it."""
    from lab_workbench.engine.evaluation import evaluate, tune_threshold
    if data.num_classes != 2:
        return None
    split = split or ("val" if len(data.val) else "train")
    if len(data.split(split)) == 0:
        raise ConfigError(f"--threshold-split {split}: the split is empty")
    tune = reports.get(split) or evaluate(model, data.split(split), data.classes, split)
    return tune_threshold(tune)


def evaluate_run(target: str | Path = "latest", checkpoint: str = "best", splits=("test",), device="auto",
                 runs_dir: str | Path = "runs", trust_code: bool = False) -> Evaluation:
    """As `lab eval TARGET`: the model of a run folder ('latest', a name under runs_dir, best.pt or, without
    one, last.pt), a checkpoint or an export, on its own data set, reports written to its eval folder."""
    from lab_workbench.engine.artifacts.loading import load_eval_data, load_model
    from lab_workbench.engine.runtime import resolve_device
    names = check_splits(splits)
    dev = resolve_device(device)
    loaded = load_model(target, checkpoint, dev, runs_dir, trust_code)
    return evaluate_model(loaded, load_eval_data(loaded, dev), names)


def check_export(fmt: str, method: str | None = None, batch: int = EXPORT_BATCH, out: str | None = None) -> None:
    """Refuse (ConfigError naming the flag) what no export can do, before torch loads."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    if method is not None and fmt != "torchscript":
        raise ConfigError(f"--method: only for --format torchscript (--format {fmt} has no methods); drop --method")
    if method is not None and method not in ("trace", "script"):
        raise ConfigError(f"--method: expected trace or script, got {method!r}")
    if batch < 1:
        raise ConfigError(f"--batch: expected an integer >= 1, got {batch}")
    if out is not None and not str(out).strip():
        raise ConfigError(f"--out: expected a file name, got {out!r}")


def export_run(target: str | Path, fmt: str, out: str | Path | None = None, method: str | None = None,
               checkpoint: str = "best", batch: int = EXPORT_BATCH, force: bool = False,
               runs_dir: str | Path = "runs", trust_code: bool = False):
    """As `lab export TARGET --format FMT`: the model written in `fmt` (RUN_DIR/export/model.* unless `out`),
    kept only when it gives the model's outputs on `batch` test images; returns the ExportResult (its
    `samples`: how many images checked it). An existing file is kept unless `force`."""
    check_export(fmt, method, batch, None if out is None else str(out))
    from lab_workbench.engine.artifacts.export import export_model
    from lab_workbench.engine.artifacts.loading import load_eval_data, load_model
    loaded = load_model(target, checkpoint, "cpu", runs_dir, trust_code)
    x = load_eval_data(loaded, "cpu").test.take(slice(0, batch))
    return export_model(loaded, fmt, x, out, force, method or "trace")
