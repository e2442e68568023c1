"""`lab export`: TorchScript, torch.export (.pt2), ONNX or safetensors, verified against the model."""

from typing import Optional

import typer

from lab_workbench.engine.errors import ConfigError

from .common import Checkpoint, RunsDir, TrustCode
from .completion import run_names


def export_command(
    target: str = typer.Argument("latest", autocompletion=run_names,
                                 help="run folder, 'latest', or a checkpoint file"),
    fmt: str = typer.Option(..., "--format", "-f", help="torchscript, export, onnx or safetensors"),
    out: Optional[str] = typer.Option(None, "--out", "-o", help="output file [default: RUN_DIR/export/model.*]"),
    method: Optional[str] = typer.Option(None, "--method", help="torchscript: trace or script [default: trace]"),
    checkpoint: Checkpoint = "best",
    batch: int = typer.Option(16, "--batch", help="test images used to verify the export"),
    force: bool = typer.Option(False, "--force", help="overwrite an existing export"),
    runs_dir: RunsDir = "runs",
    trust_code: TrustCode = False,
):
    """Export a trained model and check that the exported file gives the same outputs (within 1e-4)."""
    from lab_workbench.engine.artifacts import FORMATS

    if fmt not in FORMATS:
        raise ConfigError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    if method is not None and fmt != "torchscript":
        raise ConfigError(f"--method: only for --format torchscript (--format {fmt} has no methods); drop --method")
    if method is not None and method not in ("trace", "script"):
        raise ConfigError(f"--method: expected trace or script, got {method!r}")
    if batch < 1:
        raise ConfigError(f"--batch: expected an integer >= 1, got {batch}")
    if out is not None and not out.strip():
        raise ConfigError(f"--out: expected a file name, got {out!r}")
    from lab_workbench.engine.artifacts import export_model, load_eval_data, load_model  # torch, once the flags are checked
    loaded = load_model(target, checkpoint, "cpu", runs_dir, trust_code)
    data = load_eval_data(loaded, "cpu")
    x = data.test.take(slice(0, batch))
    result = export_model(loaded, fmt, x, out, force, method or "trace")
    detail = f", {result.detail}" if result.detail else ""
    print(f"wrote {result.path} ({result.bytes / 1e3:,.1f} kB{detail}); verified on {len(x)} test images: "
          f"max |difference| {result.max_diff:.2e}")
