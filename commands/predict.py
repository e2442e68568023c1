"""`lab predict RUN_OR_EXPORT INPUT...`: top-k classes for image files, with the run's preprocessing."""

import csv
import io
import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.core.units import percent

from .common import AllowExternalH5, Checkpoint, RunsDir, TrustCode, json_option
from .completion import run_names
from .errors import failed
from .options import setting_option
from .resolved import announce, check_finite

Json = json_option("print the predictions as JSON instead of lines")


def predict_command(
    target: str = typer.Argument(..., metavar="RUN_OR_EXPORT", autocompletion=run_names,
                                 help="a run folder, 'latest', a checkpoint or an export (.safetensors, "
                                      ".onnx; .torchscript.pt and .pt2 with --trust-code)"),
    inputs: List[str] = typer.Argument(..., metavar="INPUT...",
                                       help="PNG/JPEG/NumPy/HDF5 files, or folders of them"),
    top: int = typer.Option(3, "--top", help="how many classes to show per input"),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="also write the predictions to this CSV file",
                                           dir_okay=False),
    json_out: Json = False,
    checkpoint: Checkpoint = "best",
    images_key: str = setting_option("images_key"),
    device: str = setting_option("device"),
    runs_dir: RunsDir = "runs",
    trust_code: TrustCode = False,
    allow_external_h5: AllowExternalH5 = False,
):
    """Predict the classes of images with a trained model or an export (exit 1 if any input was unreadable)."""
    if top < 1:
        raise ConfigError(f"--top: expected an integer >= 1, got {top}")
    from lab_workbench.engine.runtime import resolve_device
    from lab_workbench.engine.artifacts import load_model
    from lab_workbench.engine import read_inputs, top_k

    dev = resolve_device(device)
    loaded = load_model(target, checkpoint, dev, runs_dir, trust_code)
    check_finite(loaded)
    announce(target, loaded, json_out)
    facts = loaded.facts
    got = read_inputs(inputs, loaded.input_shape, facts["mean"], facts["std"], images_key, allow_external_h5)
    for line in got.notices:
        sys.stderr.write(f"notice: {line}\n")
    for line in got.errors:
        sys.stderr.write(f"error: {line}\n")
    idx, probs = top_k(loaded.model, got.x, top, dev)
    classes = loaded.classes
    rows = [{"input": name, "top": [{"class": classes[int(i)], "index": int(i), "probability": float(p)}
                                    for i, p in zip(ii, pp)]} for name, ii, pp in zip(got.names, idx, probs)]
    _report(rows, got.errors, loaded, top, csv_out, json_out)


def _report(rows: list[dict], errors: list[str], loaded, top: int, csv_out: Optional[Path], json_out: bool) -> None:
    """The predictions on stdout (and in --csv); exit 1 when an input was unreadable."""
    classes = loaded.classes
    if csv_out is not None:
        _write_csv(csv_out, rows, min(top, len(classes)))
    if json_out:
        print(json.dumps({"model": str(loaded.path), "predictions": rows, "errors": errors}, indent=2))
    else:
        for r in rows:
            print(f"{r['input']}: " + "  ".join(f"{t['class']} {percent(t['probability'], 1)}" for t in r["top"]))
    if not rows and not errors:
        failed("no inputs to predict")
    if errors:  # each was its own `error:` line above; the predictions that could be made were printed
        raise typer.Exit(1)


def _write_csv(path: Path, rows: list[dict], k: int) -> None:
    from lab_workbench.engine.core.files import atomic_write
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["input"] + [f"{name}_{j + 1}" for j in range(k) for name in ("class", "probability")])
    for r in rows:
        w.writerow([r["input"]] + [v for t in r["top"] for v in (t["class"], f"{t['probability']:.6f}")])
    try:
        atomic_write(path, lambda tmp: Path(tmp).write_text(buf.getvalue(), encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"--csv {path}: cannot write ({e.strerror or e})") from None
