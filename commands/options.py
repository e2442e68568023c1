"""The training flags, declared once from TrainConfig and shared by `lab train` and `labtui`."""

import inspect
from dataclasses import fields
from typing import Optional

import typer

from engine.config import TrainConfig, parse_int_list

_DEFAULTS = {f.name: f.default for f in fields(TrainConfig)}
LIST_FIELDS = ("hidden", "channels", "classes")

# (field, type, extra short names, help); the flag is the field name with '-' for '_'
TRAIN_OPTIONS = [
    ("dataset", str, ["-d"], "data set: digits, mnist, fashion, cifar10"),
    ("data", str, [], "train from an HDF5 file with 'images' and 'labels' (overrides --dataset)"),
    ("data_dir", str, [], "folder of torchvision-format data sets [default: $LAB_DATA_DIR or ~/.cache/lab/data]"),
    ("download", bool, [], "download the data set with torchvision if it is missing"),
    ("images_key", str, [], "HDF5 dataset name of the images"),
    ("labels_key", str, [], "HDF5 dataset name of the labels"),
    ("val_split", float, [], "fraction of the training data held out for validation"),
    ("subset", int, [], "train on the first N samples of a seeded shuffle"),
    ("classes", str, [], "train on these classes only, e.g. 3,5 (relabelled, names kept)"),
    ("model", str, ["-m"], "model: logistic, mlp, cnn, resnet, convnet (see `lab models`)"),
    ("hidden", str, ["-H"], "hidden layer widths, e.g. 128,64 [default: per model]"),
    ("channels", str, ["-K"], "conv channels per block, e.g. 32,64 [default: per model]"),
    ("layers_per_block", int, ["-L"], "conv layers per block (cnn) or blocks per stage (resnet) [default: 2]"),
    ("pool_every", int, ["-P"], "cnn: pool after every P blocks"),
    ("activation", str, [], "relu, tanh, lrelu, gelu"),
    ("dropout", float, [], "dropout probability"),
    ("batchnorm", bool, [], "batch normalisation in cnn"),
    ("bottleneck", bool, [], "resnet: 1x1-3x3-1x1 bottleneck blocks"),
    ("init", str, [], "weight init: default, kaiming, xavier"),
    ("optimizer", str, ["-o"], "sgd, adam, adamw, rmsprop"),
    ("lr", float, [], "learning rate"),
    ("momentum", float, [], "momentum (sgd, rmsprop)"),
    ("nesterov", bool, [], "Nesterov momentum (sgd)"),
    ("weight_decay", float, [], "decoupled (adamw) or coupled weight decay"),
    ("l1", float, [], "L1 penalty on the weights, added to the loss"),
    ("l2", float, [], "L2 penalty on the weights, added to the loss"),
    ("scheduler", str, [], "none, step, plateau, cosine, onecycle"),
    ("step_size", int, [], "step scheduler: epochs between decays"),
    ("gamma", float, [], "step/plateau scheduler: decay factor"),
    ("epochs", int, ["-e"], "number of epochs"),
    ("augment", str, [], "on-device augmentation: none, flip, crop or flip,crop (for natural images)"),
    ("batch_size", int, ["-b"], "batch size"),
    ("patience", int, [], "stop after N epochs without validation-loss improvement"),
    ("seed", int, [], "random seed (splits, init, shuffling)"),
    ("device", str, [], "auto, cpu, cuda, mps"),
    ("name", str, [], "run folder name [default: <data>-<model>-<time>]"),
    ("runs_dir", str, [], "folder that holds the run folders"),
]
TRAIN_FIELDS = [o[0] for o in TRAIN_OPTIONS]


def _help(name, text):
    default = _DEFAULTS.get(name)
    if "[default" in text or default is None or default is False:
        return text
    return f"{text} [default: {default}]"


def _parameter(name, typ, shorts, text) -> inspect.Parameter:
    flag = "--" + name.replace("_", "-")
    decls = [f"{flag}/--no-{flag[2:]}" if typ is bool else flag, *shorts]
    option = typer.Option(None, *decls, help=_help(name, text), show_default=False, rich_help_panel="Training")
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=Optional[typ])


def with_train_options(fn):
    """Append every TrainConfig flag to a Typer command; they arrive as keyword arguments (None = unset)."""
    sig = inspect.signature(fn)
    own = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    params = own + [_parameter(*o) for o in TRAIN_OPTIONS]
    fn.__signature__ = sig.replace(parameters=params)
    fn.__annotations__ = {**{p.name: p.annotation for p in params}, "return": None}
    return fn


def options_given(kwargs: dict) -> dict:
    """The TrainConfig fields set on the command line, lists parsed."""
    given = {k: kwargs[k] for k in TRAIN_FIELDS if kwargs.get(k) is not None}
    for k in LIST_FIELDS:
        if k in given:
            given[k] = parse_int_list(given[k], k)
    return given


def config_from_options(kwargs: dict, base: TrainConfig | None = None) -> TrainConfig:
    """A validated TrainConfig: the flags given, on top of `base` (or the defaults)."""
    given = options_given(kwargs)
    cfg = base.replace(**given) if base is not None else TrainConfig(**given)
    return cfg.validate()
