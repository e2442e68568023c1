"""Export a trained model (TorchScript, torch.export, ONNX, safetensors), verified before it is kept."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from lab_workbench.engine.artifacts import FORMATS  # noqa: F401  (declared where it costs no torch; re-exported)
from lab_workbench.engine.core.errors import CheckpointError, ConfigError, LabError
from lab_workbench.engine.core.files import check_target, replace_into
from lab_workbench.engine.runs.folder import RunFolder
from lab_workbench.engine.artifacts.loading import load_safetensors, quiet as _quiet

TOLERANCE = 1e-4


@dataclass
class ExportResult:
    path: Path
    format: str
    max_diff: float
    bytes: int
    detail: str = ""
    samples: int = 0  # the inputs the export was checked on


def _meta(loaded) -> dict:
    return {"config": loaded.config.to_dict(), "data": loaded.facts, "epoch": loaded.epoch}


def _write_bytes(path: Path, data: bytes) -> None:
    """Write and fsync a file from Python: torch's C++ writers abort the process (exit 134) on a full disk,
    so every format is serialised in memory first and written here, where ENOSPC is an OSError."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _save_torchscript(model, x, path, meta, method):
    if method not in ("trace", "script"):
        raise ConfigError(f"--method: expected trace or script, got {method!r}")
    buf = io.BytesIO()
    with torch.no_grad(), _quiet():
        module = torch.jit.trace(model, x) if method == "trace" else torch.jit.script(model)
        torch.jit.save(module, buf, _extra_files={"lab.json": json.dumps(meta)})
    _write_bytes(path, buf.getvalue())

    def run(inp):
        with _quiet():
            return torch.jit.load(str(path), map_location="cpu")(inp)
    return run


def _save_export(model, x, path, meta, method):
    batch = torch.export.Dim("batch")
    with _quiet():
        program = torch.export.export(model, (x,), dynamic_shapes=({0: batch},))
    buf = io.BytesIO()
    with _quiet():
        torch.export.save(program, buf, extra_files={"lab.json": json.dumps(meta)})
    _write_bytes(path, buf.getvalue())

    def run(inp):  # the file just written to our own temp folder: loading it runs no foreign code
        with _quiet():
            return torch.export.load(str(path)).module()(inp)
    return run


def _save_onnx(model, x, path, meta, method):
    try:
        import onnx  # noqa: F401
        import onnxruntime as ort
        import onnxscript  # noqa: F401
    except ImportError as e:
        raise LabError(f"--format onnx needs onnx, onnxscript and onnxruntime ({e.name} is missing): "
                       f"pip install 'lab-workbench[onnx]'") from None
    batch = torch.export.Dim("batch")
    with _quiet():
        program = torch.onnx.export(model, (x,), dynamo=True, dynamic_shapes=({0: batch},), verbose=False,
                                    input_names=["images"], output_names=["logits"])
    import onnx
    proto = program.model_proto
    proto.metadata_props.add(key="lab", value=json.dumps(meta))
    _write_bytes(path, proto.SerializeToString())
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)

    def run(inp):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return torch.from_numpy(session.run(None, {session.get_inputs()[0].name: inp.numpy()})[0])
    run.detail = f"opset {opset}"
    return run


def _save_safetensors(model, x, path, meta, method):
    from safetensors.torch import save
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    _write_bytes(path, save(state, metadata={"lab": json.dumps(meta), "format": "pt"}))
    return lambda inp: load_safetensors(path, "cpu").model(inp)


SAVERS = {"torchscript": _save_torchscript, "export": _save_export, "onnx": _save_onnx,
          "safetensors": _save_safetensors}


def _write_error(e: OSError, out: Path) -> LabError:
    """One line for a failed write that names the output, not the temp file; earlier files are kept."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return LabError(f"{out}: no space left on the device (or quota exceeded); nothing was written and "
                        f"an earlier file there is kept")
    return LabError(f"{out}: cannot write ({e.strerror or e}); nothing was written")


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
        folder = RunFolder(loaded.run_dir or loaded.path.parent).export_folder()  # never through a symlink
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
    try:  # a private temp folder: a crash leaves no partial file under the output's name
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as e:
        raise _write_error(e, out) from None
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
    except LabError as e:  # the temp path means nothing to the user: name the output instead
        raise type(e)(str(e).replace(str(tmp), str(out)).replace(str(work), str(out.parent))) from None
    except OSError as e:
        raise _write_error(e, out) from None
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0].replace(str(tmp), str(out))
        raise LabError(f"{fmt} export failed: {type(e).__name__}: {first[:200]}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ExportResult(out, fmt, diff, out.stat().st_size, getattr(reload, "detail", ""), len(x))
