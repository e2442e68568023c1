"""TrainConfig: the one settings object shared by the CLI, the TUI and the checkpoint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields

from .errors import ConfigError

DATASETS = ("digits", "mnist", "fashion", "cifar10")
MODELS = ("logistic", "mlp", "cnn", "resnet", "convnet")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULERS = ("none", "step", "plateau", "cosine", "onecycle")
ACTIVATIONS = ("relu", "tanh", "lrelu", "gelu")
INITS = ("default", "kaiming", "xavier")
AUGMENTS = ("flip", "crop")


@dataclass
class TrainConfig:
    """Every setting of a training run. Field names are the CLI flags with '-' for '_'."""

    # data
    dataset: str = "digits"
    data: str | None = None  # an HDF5 file; takes precedence over `dataset`
    data_dir: str | None = None
    download: bool = False
    images_key: str = "images"
    labels_key: str = "labels"
    val_split: float = 0.1
    subset: int | None = None
    classes: list[int] | None = None
    # model
    model: str = "mlp"
    hidden: list[int] | None = None  # None: the model's own default
    channels: list[int] | None = None
    layers_per_block: int | None = None
    pool_every: int = 1
    activation: str = "relu"
    dropout: float = 0.0
    batchnorm: bool = True
    bottleneck: bool = False
    init: str = "default"
    # optimisation
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    scheduler: str = "none"
    step_size: int = 10
    gamma: float = 0.1
    epochs: int = 10
    augment: str = "none"  # none, flip, crop or flip,crop: on-device, per batch
    batch_size: int = 64
    patience: int | None = None
    seed: int = 0
    device: str = "auto"
    # run folder
    name: str | None = None
    runs_dir: str = "runs"
    extra: dict = field(default_factory=dict)

    def validate(self) -> "TrainConfig":
        """Raise ConfigError naming the flag of the first bad value; return self."""
        def choice(flag, value, options):
            if value not in options:
                raise ConfigError(f"--{flag}: expected one of {', '.join(options)}, got {value!r}")

        if self.data is None:
            choice("dataset", self.dataset, DATASETS)
        choice("model", self.model, MODELS)
        choice("optimizer", self.optimizer, OPTIMIZERS)
        choice("scheduler", self.scheduler, SCHEDULERS)
        choice("activation", self.activation, ACTIVATIONS)
        choice("init", self.init, INITS)
        checks = [
            ("lr", self.lr > 0, "a positive number"),
            ("epochs", self.epochs >= 1, "an integer >= 1"),
            ("batch-size", self.batch_size >= 1, "an integer >= 1"),
            ("dropout", 0.0 <= self.dropout < 1.0, "a number in [0, 1)"),
            ("val-split", 0.0 <= self.val_split < 1.0, "a number in [0, 1)"),
            ("weight-decay", self.weight_decay >= 0, "a number >= 0"),
            ("l1", self.l1 >= 0, "a number >= 0"),
            ("l2", self.l2 >= 0, "a number >= 0"),
            ("momentum", 0.0 <= self.momentum < 1.0, "a number in [0, 1)"),
            ("subset", self.subset is None or self.subset >= 1, "an integer >= 1"),
            ("patience", self.patience is None or self.patience >= 1, "an integer >= 1"),
            ("pool-every", self.pool_every >= 1, "an integer >= 1"),
            ("layers-per-block", self.layers_per_block is None or self.layers_per_block >= 1, "an integer >= 1"),
            ("step-size", self.step_size >= 1, "an integer >= 1"),
            ("gamma", self.gamma > 0, "a positive number"),
        ]
        for flag, ok, expected in checks:
            if not ok:
                raise ConfigError(f"--{flag}: expected {expected}, got {getattr(self, flag.replace('-', '_'))!r}")
        parse_augment(self.augment)
        for flag in ("hidden", "channels"):
            values = getattr(self, flag)
            if values is not None and (not values or any(v < 1 for v in values)):
                raise ConfigError(f"--{flag}: expected a comma-separated list of positive integers, got {values!r}")
        if self.classes is not None and (len(self.classes) < 2 or len(set(self.classes)) != len(self.classes)):
            raise ConfigError(f"--classes: expected at least two distinct class indices, got {self.classes!r}")
        return self

    @property
    def source(self) -> str:
        """A short name of the data source: the data set name or the HDF5 file's stem."""
        if self.data:
            from pathlib import Path
            return Path(self.data).stem
        return self.dataset

    def to_dict(self) -> dict:
        """Plain JSON-able dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Rebuild from to_dict() output; unknown keys (from newer versions) are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def replace(self, **changes) -> "TrainConfig":
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


def parse_int_list(text: str | None, flag: str) -> list[int] | None:
    """'128,64' -> [128, 64]; raises ConfigError naming the flag."""
    if text is None or text == "":
        return None
    try:
        return [int(p) for p in str(text).replace(" ", "").split(",") if p != ""]
    except ValueError:
        raise ConfigError(f"--{flag}: expected a comma-separated list of integers, got {text!r}") from None


def parse_augment(text: str | None) -> tuple[str, ...]:
    """'none' | 'flip' | 'crop' | 'flip,crop' -> the augmentations to apply."""
    if not text or text == "none":
        return ()
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    bad = [k for k in kinds if k not in AUGMENTS]
    if bad:
        raise ConfigError(f"--augment: expected none or a list of {', '.join(AUGMENTS)}, got {text!r}")
    return kinds
