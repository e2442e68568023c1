"""Load a trained model (and the data it was trained on) from a run folder or a checkpoint file."""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from .config import TrainConfig
from .data import Dataset, build_dataset, read_source
from .errors import CheckpointError, DataError, LabError
from .models import create_model, model_options
from .training.checkpoint import load_checkpoint
from .training.runs import resolve_checkpoint
from .training.state_check import check_facts


@dataclass
class LoadedModel:
    """A model in eval mode with the config and data facts it was trained with."""

    model: torch.nn.Module
    config: TrainConfig
    facts: dict  # classes, input_shape, mean, std, ...
    path: Path
    run_dir: Path | None
    epoch: int | None = None

    @property
    def classes(self) -> list[str]:
        return list(self.facts["classes"])

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.facts["input_shape"])


def load_state_into(model: torch.nn.Module, state: dict, where) -> None:
    """load_state_dict with a one-line error naming the first tensor that does not fit."""
    own = model.state_dict()
    for name, tensor in own.items():
        if name not in state:
            raise CheckpointError(f"{where}: does not match the model: tensor {name!r} is missing")
        if tuple(state[name].shape) != tuple(tensor.shape):
            raise CheckpointError(f"{where}: does not match the model: tensor {name!r} has shape "
                                  f"{tuple(state[name].shape)}, the model expects {tuple(tensor.shape)}")
    extra = [k for k in state if k not in own]
    if extra:
        raise CheckpointError(f"{where}: does not match the model: unexpected tensor {extra[0]!r}")
    model.load_state_dict(state)


def _is_torchscript(path: Path) -> bool:
    # TorchScript archives hold code/ and constants.pkl; a torch.save checkpoint holds data.pkl only
    import zipfile
    try:
        with zipfile.ZipFile(path) as z:
            return any(n.endswith("constants.pkl") for n in z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def load_model(ref: str | Path, which: str = "best", device: torch.device | str = "cpu",
               runs_dir: str | Path = "runs") -> LoadedModel:
    """A model from a run folder ('best'/'last' checkpoint), 'latest', or a checkpoint file."""
    path, run_dir = resolve_checkpoint(ref, which, runs_dir)
    if path.suffix == ".pt2":
        return load_exported_program(path, device)
    if path.suffix == ".onnx":
        return load_onnx(path, device)
    if path.suffix == ".safetensors":
        return load_safetensors(path, device)
    if path.name.endswith(".torchscript.pt") or _is_torchscript(path):
        return load_torchscript(path, device)
    state = load_checkpoint(path, map_location=device)
    if "config" not in state or "data" not in state:
        raise CheckpointError(f"{path}: not a lab checkpoint (no 'config' or 'data' entry)")
    cfg = TrainConfig.from_dict(state["config"])
    facts = check_facts(state["data"], path)
    model = create_model(cfg.model, facts["input_shape"], facts["num_classes"], strict=False, **model_options(cfg))
    load_state_into(model, state["model_state_dict"], path)
    model.to(device).eval()
    return LoadedModel(model, cfg, facts, path, run_dir, state.get("epoch"))


def load_eval_data(loaded: LoadedModel, device: torch.device | str = "cpu", dataset: str | None = None,
                   data: str | None = None, data_dir: str | None = None,
                   classes: list[int] | None = None) -> Dataset:
    """The data set a model was trained on (or another one given), normalised with the model's statistics.

    With the run's own source and seed, the val split is the one the run validated on.
    """
    cfg = loaded.config
    other = dataset is not None or data is not None
    if other:
        same_source = data is None and cfg.data is None and dataset == cfg.dataset
        keep = classes if classes is not None else (cfg.classes if same_source else None)
        cfg = cfg.replace(dataset=dataset or cfg.dataset, data=data, subset=None, classes=keep)
    if data_dir is not None:
        cfg = cfg.replace(data_dir=data_dir)
    raw = read_source(cfg.dataset, cfg.data, cfg.data_dir, False, cfg.images_key, cfg.labels_key,
                      cfg.samples, cfg.noise, cfg.seed)
    ds = build_dataset(raw, val_split=cfg.val_split, subset=cfg.subset, classes=cfg.classes, seed=cfg.seed,
                       device=device, stats=(loaded.facts["mean"], loaded.facts["std"]))
    if ds.input_shape != loaded.input_shape:
        raise DataError(f"{raw.name}: images are {'x'.join(map(str, ds.input_shape))} but the model expects "
                        f"{'x'.join(map(str, loaded.input_shape))}")
    if ds.num_classes != len(loaded.classes):
        raise DataError(f"{raw.name}: has {ds.num_classes} classes but the model predicts {len(loaded.classes)}")
    return ds


@contextlib.contextmanager
def quiet():
    """Exporters print progress and torch.jit warns that it is deprecated; the engine never prints."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def load_safetensors(path: str | Path, device="cpu"):
    """Rebuild a model from a lab .safetensors file (weights + config metadata) through create_model."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    try:
        from safetensors import safe_open
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        state = load_file(str(path), device=str(device))
    except (SafetensorError, OSError) as e:
        raise CheckpointError(f"{path}: not a readable safetensors file ({e})") from None
    if "lab" not in meta:
        raise CheckpointError(f"{path}: no lab metadata (config) in this safetensors file")
    try:
        info = json.loads(meta["lab"])
        cfg, facts = TrainConfig.from_dict(info["config"]), info["data"]
        facts["input_shape"], facts["num_classes"]
    except (ValueError, TypeError, KeyError, LabError) as e:
        raise CheckpointError(f"{path}: its lab metadata is not a JSON object with config and data "
                              f"({str(e)[:80]})") from None
    model = create_model(cfg.model, facts["input_shape"], facts["num_classes"], strict=False, **model_options(cfg))
    load_state_into(model, state, path)
    run_dir = path.parent.parent if (path.parent.parent / "config.json").is_file() else None
    return LoadedModel(model.to(device).eval(), cfg, facts, path, run_dir, info.get("epoch"))


def load_torchscript(path: str | Path, device="cpu"):
    """A TorchScript file written by `lab export`, with the config and data facts it carries."""
    path = Path(path)
    extra = {"lab.json": ""}
    try:
        with quiet():
            module = torch.jit.load(str(path), map_location=device, _extra_files=extra)
    except (RuntimeError, ValueError) as e:
        raise CheckpointError(f"{path}: not a readable TorchScript file ({str(e).splitlines()[0][:120]})") from None
    if not extra["lab.json"]:
        raise CheckpointError(f"{path}: TorchScript file without lab metadata; export it with `lab export`")
    info = json.loads(extra["lab.json"])
    run_dir = path.parent.parent if (path.parent.parent / "config.json").is_file() else None
    return LoadedModel(module.eval(), TrainConfig.from_dict(info["config"]), info["data"], path, run_dir,
                       info.get("epoch"))


class ExportedModule(torch.nn.Module):
    """An exported model (an ExportedProgram or an ONNX session, both on the CPU) behind the nn.Module
    interface that evaluation uses; train()/eval() switch only this wrapper."""

    def __init__(self, fn):
        super().__init__()
        self.__dict__["fn"] = fn  # not a registered submodule: an exported graph refuses train()/eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x.detach().cpu().float().contiguous()).to(x.device)


def _lab_meta(text: str, path: Path) -> dict:
    try:
        info = json.loads(text)
        TrainConfig.from_dict(info["config"])
        info["data"]["input_shape"], info["data"]["num_classes"]
    except (ValueError, TypeError, KeyError, LabError) as e:
        raise CheckpointError(f"{path}: its lab metadata is not a JSON object with config and data "
                              f"({str(e)[:80]})") from None
    check_facts(info["data"], path)
    return info


def _run_dir_of(path: Path) -> Path | None:
    return path.parent.parent if (path.parent.parent / "config.json").is_file() else None


def load_exported_program(path: str | Path, device="cpu") -> LoadedModel:
    """A `torch.export` archive (.pt2) written by `lab export`, with the config and data facts it carries."""
    path = Path(path)
    extra = {"lab.json": ""}
    try:
        with quiet():
            program = torch.export.load(str(path), extra_files=extra)
    except Exception as e:  # a damaged archive fails in many ways inside torch.export
        raise CheckpointError(f"{path}: not a readable torch.export archive ({str(e).splitlines()[0][:120]})") \
            from None
    if not extra["lab.json"]:
        raise CheckpointError(f"{path}: torch.export archive without lab metadata; export it with `lab export`")
    info = _lab_meta(extra["lab.json"], path)
    module = program.module()
    return LoadedModel(ExportedModule(module), TrainConfig.from_dict(info["config"]), info["data"], path,
                       _run_dir_of(path), info.get("epoch"))


def load_onnx(path: str | Path, device="cpu") -> LoadedModel:
    """An ONNX file written by `lab export`, run with onnxruntime on the CPU."""
    path = Path(path)
    try:
        import onnx
        import onnxruntime as ort
    except ImportError as e:
        raise LabError(f"{path}: reading ONNX needs onnx and onnxruntime ({e.name} is missing): "
                       f"pip install 'lab[onnx]'") from None
    try:
        meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as e:  # onnx and onnxruntime raise their own types for a damaged file
        raise CheckpointError(f"{path}: not a readable ONNX file ({str(e).splitlines()[0][:120]})") from None
    if "lab" not in meta:
        raise CheckpointError(f"{path}: ONNX file without lab metadata; export it with `lab export`")
    info = _lab_meta(meta["lab"], path)
    name = session.get_inputs()[0].name

    def run(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(session.run(None, {name: x.numpy()})[0])
    return LoadedModel(ExportedModule(run), TrainConfig.from_dict(info["config"]), info["data"], path,
                       _run_dir_of(path), info.get("epoch"))
