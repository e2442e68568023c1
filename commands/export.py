"""`lab export`: TorchScript, torch.export (.pt2), ONNX or safetensors, verified against the model."""

from typing import Optional

import typer

from lab_workbench.engine.artifacts.run_outputs import EXPORT_BATCH
from lab_workbench.engine.core.units import format_bytes

from .common import Checkpoint, RunsDir, TrustCode
from .completion import run_names


def export_command(
    target: str = typer.Argument("latest", autocompletion=run_names,
                                 help="run folder, 'latest', or a checkpoint file"),
    fmt: str = typer.Option(..., "--format", "-f", help="torchscript, export, onnx or safetensors"),
    out: Optional[str] = typer.Option(None, "--out", "-o", help="output file [default: RUN_DIR/export/model.*]"),
    method: Optional[str] = typer.Option(None, "--method", help="torchscript: trace or script [default: trace]"),
    checkpoint: Checkpoint = "best",
    batch: int = typer.Option(EXPORT_BATCH, "--batch", help="test images used to verify the export"),
    force: bool = typer.Option(False, "--force", help="overwrite an existing export"),
    runs_dir: RunsDir = "runs",
    trust_code: TrustCode = False,
):
    """Export a trained model and check that the exported file gives the same outputs (within 1e-4)."""
    from lab_workbench.engine.artifacts.run_outputs import check_export, export_run
    check_export(fmt, method, batch, out)  # before torch loads
    result = export_run(target, fmt, out, method, checkpoint, batch, force, runs_dir, trust_code)
    detail = f", {result.detail}" if result.detail else ""
    print(f"wrote {result.path} ({format_bytes(result.bytes)}{detail}); verified on {result.samples} test images: "
          f"max |difference| {result.max_diff:.2e}")
