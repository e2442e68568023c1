"""Export a trained model (TorchScript, torch.export, ONNX, safetensors), verified before it is kept."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import CheckpointError, ConfigError, LabError
from .files import check_target, replace_into, safe_folder
from .inference import load_safetensors, quiet as _quiet

FORMATS = {"torchscript": ".torchscript.pt", "export": ".pt2", "onnx": ".onnx", "safetensors": ".safetensors"}
TOLERANCE = 1e-4


@dataclass
class ExportResult:
    path: Path
    format: str
    max_diff: float
    bytes: int
    detail: str = ""


def _meta(loaded) -> dict:
    return {"config": loaded.config.to_dict(), "data": loaded.facts, "epoch": loaded.epoch}


def _save_torchscript(model, x, path, meta, method):
    if method not in ("trace", "script"):
        raise ConfigError(f"--method: expected trace or script, got {method!r}")
    with torch.no_grad(), _quiet():
        module = torch.jit.trace(model, x) if method == "trace" else torch.jit.script(model)
        torch.jit.save(module, str(path), _extra_files={"lab.json": json.dumps(meta)})

    def run(inp):
        with _quiet():
            return torch.jit.load(str(path), map_location="cpu")(inp)
    return run


def _save_export(model, x, path, meta, method):
    batch = torch.export.Dim("batch")
    with _quiet():
        program = torch.export.export(model, (x,), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(path), extra_files={"lab.json": json.dumps(meta)})
    return lambda inp: torch.export.load(str(path)).module()(inp)


def _save_onnx(model, x, path, meta, method):
    try:
        import onnx  # noqa: F401
        import onnxruntime as ort
        import onnxscript  # noqa: F401
    except ImportError as e:
        raise LabError(f"--format onnx needs onnx, onnxscript and onnxruntime ({e.name} is missing): "
                       f"pip install 'lab[onnx]'") from None
    batch = torch.export.Dim("batch")
    with _quiet():
        program = torch.onnx.export(model, (x,), dynamo=True, dynamic_shapes=({0: batch},), verbose=False,
                                    input_names=["images"], output_names=["logits"])
    import onnx
    proto = program.model_proto
    proto.metadata_props.add(key="lab", value=json.dumps(meta))
    onnx.save(proto, str(path))
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)

    def run(inp):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return torch.from_numpy(session.run(None, {session.get_inputs()[0].name: inp.numpy()})[0])
    run.detail = f"opset {opset}"
    return run


def _save_safetensors(model, x, path, meta, method):
    from safetensors.torch import save_file
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={"lab": json.dumps(meta), "format": "pt"})
    return lambda inp: load_safetensors(path, "cpu").model(inp)


SAVERS = {"torchscript": _save_torchscript, "export": _save_export, "onnx": _save_onnx,
          "safetensors": _save_safetensors}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def export_model(loaded, fmt: str, x: torch.Tensor, out: str | Path | None = None, force: bool = False,
                 method: str = "trace") -> ExportResult:
    """Write `loaded.model` in `fmt`, reload it, compare outputs on batch `x` with the eager model.

    The file is written under a temp name and renamed only when the outputs match within 1e-4.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    if out is None:
        folder = safe_folder((loaded.run_dir or loaded.path.parent) / "export")  # never through a symlink
        out = folder / (f"model-{method}" + FORMATS[fmt] if fmt == "torchscript" else "model" + FORMATS[fmt])
    out = Path(out)
    if out.exists() and not force:
        raise CheckpointError(f"{out}: already exists (pass --force to overwrite)")
    check_target(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CheckpointError(f"{out.parent}: cannot create folder ({e.strerror})") from None
    model = loaded.model.cpu().eval()
    x = x.cpu().clone()  # a slice keeps its whole data set as storage: torch.export would save all of it
    with torch.no_grad():
        expected = model(x)
    try:  # a temp folder holding the file under its final name (an archive's root folder is its stem)
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as e:
        raise CheckpointError(f"{out}: cannot write in {out.parent} ({e.strerror or e})") from None
    tmp = work / out.name
    try:
        reload = SAVERS[fmt](model, x, tmp, _meta(loaded), method)
        with torch.no_grad():
            got = reload(x)
        diff = (got.float() - expected.float()).abs().max().item()
        if not diff <= TOLERANCE:
            raise LabError(f"{fmt} export failed verification: outputs differ from the model by {diff:.3g} "
                           f"(> {TOLERANCE}); nothing was written")
        os.chmod(tmp, 0o666 & ~_umask())  # exporters may create 0600 files; others should read them
        replace_into(tmp, out)
    except LabError:
        raise
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise LabError(f"{fmt} export failed: {type(e).__name__}: {first[:200]}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ExportResult(out, fmt, diff, out.stat().st_size, getattr(reload, "detail", ""))
