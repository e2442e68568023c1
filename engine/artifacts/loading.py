"""Load a trained model (and the data it was trained on) from a run folder or a checkpoint file."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.data import Dataset, build_dataset, read_source
from lab_workbench.engine.core.errors import CheckpointError, DataError, LabError
from lab_workbench.engine.models import create_model, model_options
from lab_workbench.engine.runs.folder import run_of_file
from lab_workbench.engine.runs.listing import resolve_checkpoint
from lab_workbench.engine.training.state import TrainingState


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


def build_for_state(cfg, facts: dict, state: dict, where) -> torch.nn.Module:
    """The model a file's config names, with its weights: the tensors' names and shapes are compared with a
    build on the meta device first, so that a config naming tv:vit_h_14 over an MLP's weights is refused
    before the huge model takes any memory."""
    options = model_options(cfg)
    try:
        with torch.device("meta"):
            probe = create_model(cfg.model, facts["input_shape"], facts["num_classes"], strict=False, **options)
    except LabError:
        raise
    except Exception:  # a builder that needs real tensors: the real build below reports its own errors
        probe = None
    if probe is not None:
        check_state(probe, state, where)
    model = create_model(cfg.model, facts["input_shape"], facts["num_classes"], strict=False, **options)
    load_state_into(model, state, where)
    return model


def check_state(model: torch.nn.Module, state: dict, where) -> None:
    """A one-line CheckpointError naming the first tensor of `state` that does not fit `model`."""
    if not isinstance(state, dict):
        raise CheckpointError(f"{where}: its model_state_dict is not a dict of tensors")
    own = model.state_dict()
    for name, tensor in own.items():
        if name not in state:
            raise CheckpointError(f"{where}: does not match the model: tensor {name!r} is missing")
        if not torch.is_tensor(state[name]):
            raise CheckpointError(f"{where}: does not match the model: {name!r} is not a tensor")
        if tuple(state[name].shape) != tuple(tensor.shape):
            raise CheckpointError(f"{where}: does not match the model: tensor {name!r} has shape "
                                  f"{tuple(state[name].shape)}, the model expects {tuple(tensor.shape)}")
    extra = [k for k in state if k not in own]
    if extra:
        raise CheckpointError(f"{where}: does not match the model: unexpected tensor {extra[0]!r}")


def load_state_into(model: torch.nn.Module, state: dict, where) -> None:
    """load_state_dict with a one-line error naming the first tensor that does not fit."""
    check_state(model, state, where)
    model.load_state_dict(state)


# formats whose loader runs code from the file: torch.export unpickles with weights_only=False, and a
# TorchScript archive holds compiled code (its __setstate__ runs on load) that may call torch.from_file & co.
CODE_FORMATS = {"pt2": "a torch.export archive (.pt2)", "torchscript": "a TorchScript archive"}
SAFE_FORMATS = "safetensors, ONNX or a lab .pt checkpoint"


def file_kind(path: Path) -> str:
    """'pt2', 'torchscript', 'onnx', 'safetensors' or 'checkpoint': by suffix, and for zip archives by content,
    so that a renamed archive is still recognised."""
    import zipfile
    if path.suffix == ".onnx":
        return "onnx"
    if path.suffix == ".safetensors":
        return "safetensors"
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        names = []
    if path.suffix == ".pt2" or any(n.endswith("/archive_format") for n in names):
        return "pt2"
    # TorchScript archives hold code/ and constants.pkl; a torch.save checkpoint holds data.pkl only
    if path.name.endswith(".torchscript.pt") or any(n.endswith("constants.pkl") for n in names):
        return "torchscript"
    return "checkpoint"


def refuse_code(path: Path, kind: str) -> "NoReturn":  # noqa: F821
    """The one-line refusal of a file whose loading can run code."""
    raise CheckpointError(f"{path}: {CODE_FORMATS[kind]} can run code when it is loaded; lab loads it only with "
                          f"--trust-code (safe formats: {SAFE_FORMATS}; `lab export RUN --format safetensors` "
                          f"or `--format onnx` writes one)")


def check_facts(facts, where) -> dict:
    """The data facts a model file carries (input_shape, classes, mean, std), checked before any use."""
    def bad(what):
        raise CheckpointError(f"{where}: its lab metadata is damaged: {what}")
    if not isinstance(facts, dict):
        bad("'data' is not an object")
    shape = facts.get("input_shape")
    if not (isinstance(shape, list) and len(shape) == 3 and all(type(d) is int and 0 < d <= 1 << 16 for d in shape)):
        bad(f"input_shape {str(shape)[:40]} is not a list of 3 positive integers")
    n, classes = facts.get("num_classes"), facts.get("classes")
    if not (type(n) is int and n >= 1):
        bad(f"num_classes {str(n)[:40]} is not a positive integer")
    if not (isinstance(classes, list) and len(classes) == n and all(isinstance(c, (str, int)) for c in classes)):
        bad(f"classes is not a list of {n} names")
    for key in ("mean", "std"):
        v = facts.get(key)
        if not (isinstance(v, list) and len(v) == shape[0]
                and all(type(x) in (int, float) and math.isfinite(x) for x in v)):
            bad(f"{key} is not a list of {shape[0]} numbers (one per channel)")
    if min(facts["std"]) <= 0:
        bad("std has a value <= 0")
    from lab_workbench.engine.runtime.memory import check_memory
    # an input is resized to this shape, in float32 with a copy or two: a claim of 3x65536x65536 is 206 GB
    check_memory(16 * math.prod(shape), f"{where}: its lab metadata claims inputs of shape {shape}")
    return facts


def _config(d, where) -> TrainConfig:
    try:
        return TrainConfig.from_dict(d)
    except LabError as e:
        raise CheckpointError(f"{where}: its lab metadata holds a bad config ({str(e)[:120]})") from None
    except Exception as e:  # a config that is not even a dict of settings
        raise CheckpointError(f"{where}: its lab metadata holds a bad config ({type(e).__name__})") from None


def load_model(ref: str | Path, which: str = "best", device: torch.device | str = "cpu",
               runs_dir: str | Path = "runs", trust_code: bool = False) -> LoadedModel:
    """A model from a run folder ('best'/'last' checkpoint), 'latest', a checkpoint file or an export.

    .pt2 and TorchScript files can run code when loaded: they are refused unless `trust_code`.
    """
    path, run_dir = resolve_checkpoint(ref, which, runs_dir)
    kind = file_kind(path)
    if kind in CODE_FORMATS and not trust_code:
        refuse_code(path, kind)
    loaders = {"pt2": load_exported_program, "onnx": load_onnx, "safetensors": load_safetensors,
               "torchscript": load_torchscript}
    if kind in loaders:
        return loaders[kind](path, device)
    state = TrainingState.load(path, device, "model")
    cfg = _config(state.config, path)
    facts = check_facts(state.data, path)
    model = build_for_state(cfg, facts, state.model, path)
    model.to(device).eval()
    return LoadedModel(model, cfg, facts, path, run_dir, state.epoch)


def load_eval_data(loaded: LoadedModel, device: torch.device | str = "cpu", dataset: str | None = None,
                   data: str | None = None, data_dir: str | None = None,
                   classes: list[int] | None = None, allow_external_h5: bool = False) -> Dataset:
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
    from lab_workbench.engine.data.folder import folder_h5
    h5 = folder_h5(cfg.data, cfg.data_dir) if cfg.data else None  # an image folder: its cached HDF5 copy
    raw = read_source(cfg.dataset, h5, cfg.data_dir, False, cfg.images_key, cfg.labels_key,
                      cfg.samples, cfg.noise, cfg.seed, allow_external_h5 or cfg.allow_external_h5)
    if h5 != cfg.data:
        raw.name = Path(cfg.data).expanduser().resolve().name  # the folder's name, not its cache file's
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
    """Exporters print progress and torch.jit warns that it is deprecated; the engine never prints.

    torch.export also logs whole tracebacks through `logging` (to a stream bound before any redirect)."""
    before = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(before)


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
    info = _lab_meta(meta["lab"], path)
    cfg, facts = _config(info["config"], path), info["data"]
    model = build_for_state(cfg, facts, state, path)
    run_dir = run_of_file(path, up=2)
    return LoadedModel(model.to(device).eval(), cfg, facts, path, run_dir, info.get("epoch"))


def load_torchscript(path: str | Path, device="cpu"):
    """A TorchScript file written by `lab export`, with the config and data facts it carries."""
    path = Path(path)
    extra = {"lab.json": ""}
    try:
        with quiet():
            module = torch.jit.load(str(path), map_location=device, _extra_files=extra)
    except Exception as e:  # a damaged archive fails in many ways inside torch.jit
        raise CheckpointError(f"{path}: not a readable TorchScript file ({_first_line(e)})") from None
    if not extra["lab.json"]:
        raise CheckpointError(f"{path}: TorchScript file without lab metadata; export it with `lab export`")
    info = _lab_meta(extra["lab.json"], path)
    model = ExportedModule(_guarded(module.eval(), path), module.state_dict(), on_cpu=False)
    return LoadedModel(model, _config(info["config"], path), info["data"], path, _run_dir_of(path),
                       info.get("epoch"))


class ExportedModule(torch.nn.Module):
    """An exported model (an ExportedProgram or an ONNX session, both on the CPU) behind the nn.Module
    interface that evaluation uses; train()/eval() switch only this wrapper. state_dict() gives the weights
    the export holds (for inspect-weights and an export to safetensors)."""

    def __init__(self, fn, weights: dict | None = None, on_cpu: bool = True):
        super().__init__()
        self.__dict__["fn"] = fn  # not a registered submodule: an exported graph refuses train()/eval()
        self.__dict__["weights"] = dict(weights or {})
        self.on_cpu = on_cpu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.on_cpu:
            return self.fn(x)
        return self.fn(x.detach().cpu().float().contiguous()).to(x.device)

    def state_dict(self, *args, **kwargs) -> dict:
        return dict(self.__dict__["weights"])


def _lab_meta(text: str, path: Path) -> dict:
    """The lab metadata an export carries ({config, data, epoch}), checked: one line when it is damaged."""
    try:
        info = json.loads(text)
        if not isinstance(info, dict) or "config" not in info or "data" not in info:
            raise ValueError("no config or data entry")
    except (ValueError, TypeError, RecursionError) as e:
        raise CheckpointError(f"{path}: its lab metadata is not a JSON object with config and data "
                              f"({str(e)[:80]})") from None
    _config(info["config"], path)
    check_facts(info["data"], path)
    if not (info.get("epoch") is None or type(info["epoch"]) is int):
        info["epoch"] = None  # shown only, never used
    return info


def _run_dir_of(path: Path) -> Path | None:
    return run_of_file(path, up=2)


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:120]


def _guarded(fn, path: Path):
    """fn(x), where a model that does not fit its own metadata's input gives one line, not a traceback."""
    def run(x: torch.Tensor) -> torch.Tensor:
        try:
            return fn(x)
        except Exception as e:  # onnxruntime and exported graphs raise their own types
            raise CheckpointError(f"{path}: the model fails on inputs of shape {list(x.shape)}, as its lab metadata "
                                  f"describes them ({_first_line(e)})") from None
    return run


def load_exported_program(path: str | Path, device="cpu") -> LoadedModel:
    """A `torch.export` archive (.pt2) written by `lab export` (only with --trust-code: loading it unpickles)."""
    path = Path(path)
    extra = {"lab.json": ""}
    try:
        with quiet():
            program = torch.export.load(str(path), extra_files=extra)
            module = program.module()
            weights = {k: v.detach() for k, v in program.state_dict.items() if torch.is_tensor(v)}
    except Exception as e:  # a damaged archive fails in many ways inside torch.export
        raise CheckpointError(f"{path}: not a readable torch.export archive ({_first_line(e)})") from None
    if not extra["lab.json"]:
        raise CheckpointError(f"{path}: torch.export archive without lab metadata; export it with `lab export`")
    info = _lab_meta(extra["lab.json"], path)
    return LoadedModel(ExportedModule(_guarded(module, path), weights), _config(info["config"], path),
                       info["data"], path, _run_dir_of(path), info.get("epoch"))


def _read_onnx(path: Path, onnx):
    """(file bytes, ModelProto) of a self-contained ONNX file: tensors in external files are refused."""
    from onnx.external_data_helper import _get_all_tensors, uses_external_data
    try:
        data = path.read_bytes()
        proto = onnx.load_from_string(data)
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read ({e.strerror or e})") from None
    except Exception as e:  # protobuf's DecodeError and friends
        raise CheckpointError(f"{path}: not a readable ONNX file ({_first_line(e)})") from None
    external = [t.name for t in _get_all_tensors(proto) if uses_external_data(t)]
    if external:
        raise CheckpointError(f"{path}: tensor {external[0][:60]!r} is stored in an external data file; lab reads "
                              f"only self-contained ONNX files (as `lab export --format onnx` writes)")
    return data, proto


def load_onnx(path: str | Path, device="cpu") -> LoadedModel:
    """An ONNX file written by `lab export`, run with onnxruntime on the CPU (ONNX holds no Python code)."""
    path = Path(path)
    try:
        import onnx
        import onnxruntime as ort
    except ImportError as e:
        raise LabError(f"{path}: reading ONNX needs onnx and onnxruntime ({e.name} is missing): "
                       f"pip install 'lab-workbench[onnx]'") from None
    data, proto = _read_onnx(path, onnx)
    meta = {p.key: p.value for p in proto.metadata_props}
    if "lab" not in meta:
        raise CheckpointError(f"{path}: ONNX file without lab metadata; export it with `lab export`")
    info = _lab_meta(meta["lab"], path)
    try:  # from the bytes: with no model path, onnxruntime cannot open any other file
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
    except Exception as e:  # onnxruntime raises its own types for a damaged file
        raise CheckpointError(f"{path}: not a readable ONNX file ({_first_line(e)})") from None
    floats = (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16)
    weights = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy())
               for t in proto.graph.initializer if t.data_type in floats}

    def run(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(session.run(None, {name: x.numpy()})[0])
    return LoadedModel(ExportedModule(_guarded(run, path), weights), _config(info["config"], path), info["data"],
                       path, _run_dir_of(path), info.get("epoch"))
