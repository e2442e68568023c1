"""TrainConfig: the one settings object shared by the CLI, the TUI and the checkpoint.

Each field declares its flag, help, choices, check and whether it may change on resume once, in its
metadata; `lab train` options and the `labtui` form are generated from `settings()`. Parsing and checking
one value lives in engine.settings.flags (its names are re-exported here).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields

from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.settings.flags import Setting, _suggest, check_run_name  # noqa: F401  (re-exported)
from lab_workbench.engine.contract.monitor import MONITORS
from lab_workbench.engine.core.registry import OPTIMIZERS, SCHEDULERS, TRACKERS  # choices: registries, which plugins add to

ACTIVATIONS = ("relu", "tanh", "lrelu", "gelu")
INITS = ("default", "kaiming", "xavier")
AUGMENTS = ("flip", "crop", "shift")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
# what each field is about: the sections of `lab train --help` and of --print-config, in this order
GROUPS = ("data", "model", "optimisation", "schedule", "run", "trackers")


def model_entries() -> list[tuple[str, str]]:
    """(name, description) of every model. The registry (and torch) is asked only once it is imported, by
    code that may have registered more (a plugin, loaded by the faces' main); else the torch-free catalog."""
    import sys
    if "lab_workbench.engine.models.factory" in sys.modules:
        from lab_workbench.engine.models.factory import list_models
        return [(e.name, e.description) for e in list_models()]
    from lab_workbench.engine.models.catalog import builtin_entries
    return list(builtin_entries())


def _model_names() -> tuple[str, ...]:
    return tuple(name for name, _ in model_entries())


def _recipe_names() -> tuple[str, ...]:
    from lab_workbench.engine.settings.recipes import RECIPES
    return tuple(RECIPES)


# the data sets engine.data.sources registers, named here so that listing them (labtui's first screen, --help)
# does not import numpy; tests/engine/test_time_to_result.py checks that both lists agree
BUILTIN_DATASETS = ("digits", "mnist", "fashion", "cifar10", "moons", "circles", "blobs")


def _dataset_names() -> tuple[str, ...]:
    """Every data set name; the readers are asked only once imported (by code that may have registered more)."""
    import sys
    if "lab_workbench.engine.data.sources" in sys.modules:
        from lab_workbench.engine.data.sources import list_datasets
        return tuple(list_datasets())
    return BUILTIN_DATASETS


TRAIN_DEFAULT_DATASET = "digits"
POSITIVE = (lambda v: v > 0, "a positive number")
AT_LEAST_1 = (lambda v: v >= 1, "an integer >= 1")
NON_NEGATIVE = (lambda v: v >= 0, "a number >= 0")
FRACTION = (lambda v: 0.0 <= v < 1.0, "a number in [0, 1)")
# the labels the data set uses: class 0 (digit 0, T-shirt, airplane) is one of them
LABELS = (lambda v: all(x >= 0 for x in v), "a comma-separated list of class labels (integers >= 0)")
# epochs times steps per epoch must stay an integer: 1e308 epochs of warm-up overflowed in the scheduler
WARMUP = (lambda v: 0 <= v <= 1e6, "a number >= 0 (epochs, at most 1000000)")
# numpy and torch take seeds in [0, 2**32) and [0, 2**64); beyond, they raise deep inside training
SEED = (lambda v: 0 <= v < 2 ** 32, f"an integer from 0 to {2 ** 32 - 1}")


def _max_threads() -> int:
    """More threads than 4 per CPU only slow a run down, and 10^5 exhaust the process limit (a segfault)."""
    import os
    return 4 * (os.cpu_count() or 1)


THREADS = (lambda v: 1 <= v <= _max_threads(), f"an integer from 1 to {_max_threads()} (4 per CPU)")


def _is_size(text) -> bool:
    from lab_workbench.engine.data.budget import parse_bytes
    try:
        parse_bytes(text)
        return True
    except ValueError:
        return False


SIZE = (_is_size, "auto or a size such as 2G, 500M or 1500000000")


def setting(default, help: str, *, kind: str, short: str | None = None, choices=None, check=None,
            group: str = "optimisation", resumable: bool = False, form: bool = True, placeholder: str = ""):
    """A TrainConfig field with its flag metadata. kind: int, float, str, bool, ints, strs or choice."""
    meta = dict(help=help, kind=kind, short=short, choices=choices, check=check, group=group,
                resumable=resumable, form=form, placeholder=placeholder)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class TrainConfig:
    """Every setting of a training run. Field names are the CLI flags with '-' for '_'."""

    # data
    dataset: str | None = setting(TRAIN_DEFAULT_DATASET, "a registered data set", kind="choice", short="-d",
                           choices=_dataset_names, group="data")
    data: str | None = setting(None, "train from an HDF5 file with images and labels, or a folder of class "
                               "folders of images (decoded once into a cached HDF5; overrides --dataset)",
                               kind="str", group="data", placeholder="HDF5 file (optional)")
    data_dir: str | None = setting(None, "folder of torchvision-format data sets "
                                   "(default: $LAB_DATA_DIR or ~/.cache/lab/data)", kind="str", group="data",
                                   resumable=True, placeholder="default")
    download: bool = setting(False, "download the data set with torchvision if it is missing", kind="bool",
                             group="data", resumable=True)
    samples: int | None = setting(None, "moons, circles, blobs: number of points to generate (default 1000)",
                                  kind="int", check=AT_LEAST_1, group="data", placeholder="1000")
    noise: float | None = setting(None, "moons, circles: noise; blobs: cluster spread (default: per data set)",
                                  kind="float", check=NON_NEGATIVE, group="data", placeholder="per data set")
    images_key: str = setting("images", "HDF5 dataset name of the images", kind="str", group="data")
    labels_key: str = setting("labels", "HDF5 dataset name of the labels", kind="str", group="data")
    val_split: float = setting(0.1, "fraction of the training data held out for validation", kind="float",
                               check=FRACTION, group="data")
    subset: int | None = setting(None, "use N samples of the training data (a seeded shuffle) for training and "
                                 "validation; the test split stays whole (see --eval-subset)", kind="int",
                                 check=AT_LEAST_1, group="data", placeholder="all")
    eval_subset: int | None = setting(None, "score the test split on N of its samples (a seeded shuffle), for "
                                      "quick experiments; default: the whole test split", kind="int",
                                      check=AT_LEAST_1, group="data",
                                      placeholder="all")
    classes: list[int] | None = setting(None, "train on these classes only, e.g. 3,5 (relabelled, names kept)",
                                        kind="ints", check=LABELS, group="data", placeholder="all")
    data_memory: str = setting("auto", "bytes of data held resident, e.g. 2G or 500M; a larger HDF5 data set "
                               "streams from its file (auto: half the memory this process may use, or of the "
                               "free GPU memory)", kind="str", check=SIZE, group="data", resumable=True)
    stream: bool = setting(False, "stream an HDF5 data set from its file even when it fits in --data-memory",
                           kind="bool", group="data", resumable=True)
    allow_external_h5: bool = setting(False, "let --data follow HDF5 external links, external storage and "
                                      "virtual datasets into other files", kind="bool", group="data",
                                      resumable=True)
    # model: shaping fields default to None, so that each model's own defaults apply
    model: str = setting("mlp", "model (see `lab models`)", kind="choice", short="-m", choices=_model_names,
                         group="model")
    hidden: list[int] | None = setting(None, "hidden layer widths, e.g. 128,64 (default: per model)",
                                       kind="ints", short="-H", group="model", placeholder="model default")
    channels: list[int] | None = setting(None, "conv channels per block, e.g. 32,64 (default: per model)",
                                         kind="ints", short="-K", group="model", placeholder="model default")
    layers_per_block: int | None = setting(None, "conv layers per block (cnn) or blocks per stage (resnet)",
                                           kind="int", short="-L", check=AT_LEAST_1, group="model",
                                           placeholder="model default")
    pool_every: int | None = setting(None, "cnn: pool after every P blocks", kind="int", short="-P",
                                     check=AT_LEAST_1, group="model", placeholder="model default")
    activation: str | None = setting(None, "activation function", kind="choice", choices=ACTIVATIONS,
                                     group="model")
    dropout: float | None = setting(None, "dropout probability (default: per model)", kind="float",
                                    check=FRACTION, group="model", placeholder="model default")
    batchnorm: bool | None = setting(None, "batch normalisation (cnn)", kind="bool", group="model")
    bottleneck: bool | None = setting(None, "resnet: 1x1-3x3-1x1 bottleneck blocks", kind="bool", group="model")
    init: str | None = setting(None, "weight init (default: torch's)", kind="choice", choices=INITS,
                               group="model")
    # fine-tuning (engine/training/finetune.py): new runs only; a resume restores its own weights
    init_from: str | None = setting(None, "start from these weights: a run (folder or name), a .safetensors or a "
                                    "state-dict .pt (loaded weights-only)", kind="str", group="model",
                                    placeholder="none")
    weights: str | None = setting(None, "tv: models: a torchvision weights file kept locally (or, with --download, "
                                  "a weights name such as DEFAULT or IMAGENET1K_V1 to fetch)", kind="str",
                                  group="model", placeholder="none")
    freeze: list[str] | None = setting(None, "freeze the parameters whose names match this glob (repeatable; see "
                                       "lab inspect-weights for the names); --freeze body freezes all but the head",
                                       kind="strs", group="model", placeholder="none")
    unfreeze_at: int | None = setting(None, "release the --freeze parameters from this epoch on", kind="int",
                                      check=AT_LEAST_1, placeholder="never", group="model")
    head_lr: float | None = setting(None, "learning rate of the head (the last layer) when it differs from --lr",
                                    kind="float", check=POSITIVE, placeholder="--lr", group="model")
    # optimisation
    optimizer: str = setting("adam", "optimizer", kind="choice", short="-o", choices=OPTIMIZERS.names)
    lr: float = setting(1e-3, "learning rate", kind="float", check=POSITIVE, resumable=True)
    momentum: float = setting(0.9, "momentum (sgd, rmsprop)", kind="float", check=FRACTION)
    nesterov: bool = setting(False, "Nesterov momentum (sgd)", kind="bool")
    weight_decay: float = setting(0.0, "decoupled (adamw) or coupled weight decay", kind="float",
                                  check=NON_NEGATIVE)
    l1: float = setting(0.0, "L1 penalty on the weights, added to the loss", kind="float", check=NON_NEGATIVE)
    l2: float = setting(0.0, "L2 penalty on the weights, added to the loss", kind="float", check=NON_NEGATIVE)
    # cosine by default: the MLP reaches 98.2% MNIST test in 5 epochs against 97.5% at a constant lr, at
    # no cost per step (bench/default_accuracy.py)
    scheduler: str = setting("cosine", "learning-rate schedule", kind="choice", choices=SCHEDULERS.names,
                         group="schedule")
    step_size: int = setting(10, "step scheduler: epochs between decays", kind="int", check=AT_LEAST_1,
                             group="schedule")
    gamma: float = setting(0.1, "step/plateau scheduler: decay factor", kind="float", check=POSITIVE,
                           group="schedule")
    epochs: int = setting(10, "number of epochs", kind="int", short="-e", check=AT_LEAST_1, resumable=True,
                          group="schedule")
    augment: str = setting("none", "on-device augmentation: none, or a list of flip, crop (per image, natural "
                           "images) and shift (the batch moved by up to 2 pixels: cheap, for digits)", kind="str",
                           group="data")
    label_smoothing: float = setting(0.0, "label smoothing of the training loss", kind="float", check=FRACTION)
    clip_grad: float | None = setting(None, "clip the gradient norm to this value", kind="float", check=POSITIVE,
                                      resumable=True, placeholder="off")
    warmup: float = setting(0.0, "epochs of linear learning-rate warm-up (onecycle: its rising part)",
                            kind="float", check=WARMUP, group="schedule")
    ema: float | None = setting(None, "keep an exponential moving average of the weights with this decay, "
                                "e.g. 0.999; it is what is evaluated and saved", kind="float", check=FRACTION,
                                placeholder="off")
    batch_size: int = setting(64, "batch size: the global batch, shared among the processes "
                                 "under torchrun or srun", kind="int", short="-b", check=AT_LEAST_1)
    patience: int | None = setting(None, "stop after N epochs without improvement of --monitor", kind="int",
                                   check=AT_LEAST_1, resumable=True, placeholder="off", group="schedule")
    monitor: str = setting("val_acc", "the metric that picks best.pt and that --patience watches (val_acc ties: "
                           "the lower val_loss)", kind="choice", choices=MONITORS, group="schedule")
    seed: int = setting(0, "random seed (splits, init, shuffling)", kind="int", check=SEED, group="run")
    device: str = setting("auto", "device", kind="choice", choices=DEVICES, group="run", resumable=True)
    precision: str = setting("auto", "training precision; auto: bf16 autocast where the CPU or GPU runs it "
                             "natively, fp16 with a grad scaler on GPUs without bf16, else fp32 (validation runs "
                             "at it too; the test score is fp32)", kind="choice", choices=PRECISIONS, group="run")
    threads: int | None = setting(None, "CPU threads (default: the cores this process may use: affinity, cgroup "
                                  "quota, SLURM_CPUS_PER_TASK)", kind="int", check=THREADS, group="run",
                                  resumable=True, placeholder="auto")
    recipe: str | None = setting(None, "start from a tuned recipe (see `lab train --recipe list`); flags given "
                                 "override its values", kind="choice", choices=_recipe_names, group="run",
                                 placeholder="none")
    # experiment trackers (engine/trackers): fed the same events as the run folder, by rank 0
    log_to: list[str] | None = setting(None, "also log to these trackers (repeatable or comma-separated; "
                                       "tensorboard writes RUN/tb/)", kind="strs", group="trackers",
                                       choices=TRACKERS.names, resumable=True, placeholder="none")
    log_to_strict: bool = setting(False, "a tracker that is missing or unreachable is an error, not a warning",
                                  kind="bool", group="trackers", resumable=True)
    mlflow_uri: str | None = setting(None, "MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else ./mlruns)",
                                     kind="str", group="trackers", resumable=True, placeholder="default")
    # run folder
    name: str | None = setting(None, "run folder name (default: <data>-<model>-<time>)", kind="str",
                               group="run", resumable=True, placeholder="automatic")
    runs_dir: str = setting("runs", "folder that holds the run folders", kind="str", group="run",
                            resumable=True)

    def __post_init__(self):
        # an HDF5 file is the data set: the default --dataset would be recorded as if it had been used
        if self.data and self.dataset == TRAIN_DEFAULT_DATASET:
            self.dataset = None

    def validate(self) -> "TrainConfig":
        """Raise ConfigError naming the flag of the first bad value; return self."""
        for s in settings():
            check_field(s.name, getattr(self, s.name))
        check_ignored(self)
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
    def from_dict(cls, d) -> "TrainConfig":
        """Rebuild from to_dict() output; unknown keys (from newer versions) are ignored."""
        if not isinstance(d, dict):
            raise ConfigError(f"saved config: expected a JSON object, got {type(d).__name__}")
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def replace(self, **changes) -> "TrainConfig":
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def resumed_with(self, changes: dict) -> "TrainConfig":
        """This (saved) config with the changes a resume asks for; refuses fields that may not change."""
        for name, value in changes.items():
            s = SETTINGS_BY_NAME.get(name)
            if s is None or s.resumable or value == getattr(self, name):
                continue
            raise ConfigError(f"{s.flag}: cannot change on resume (the run has {getattr(self, name)!r}, "
                              f"got {value!r}); start a new run. May change: {', '.join(resumable_flags())}")
        return self.replace(**changes).validate()


def check_field(name: str, value) -> None:
    """Raise ConfigError naming the flag unless `value` is valid for field `name` on its own (no other
    field consulted: a config file's keys are checked one by one, the whole config once merged)."""
    SETTINGS_BY_NAME[name].check_value(value)
    if name == "augment":
        parse_augment(value)
    elif name == "name":
        check_run_name(value)


def settings() -> list[Setting]:
    """Every flag-backed field of TrainConfig, in declaration order."""
    out = []
    for f in fields(TrainConfig):
        if not f.metadata:
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        out.append(Setting(f.name, default=default, **f.metadata))
    return out


SETTINGS_BY_NAME = {s.name: s for s in settings()}


def resumable_flags() -> list[str]:
    return [s.flag for s in settings() if s.resumable]


def config_from_text(values: dict, base: TrainConfig | None = None) -> TrainConfig:
    """A validated TrainConfig from {field: text-or-value}; None leaves the field as in `base`, '' is refused."""
    changes = {}
    for name, raw in values.items():
        value = SETTINGS_BY_NAME[name].parse(raw)
        if value is not None:
            changes[name] = value
    from lab_workbench.engine.settings.recipes import with_recipe  # a recipe fills the fields not given
    base = base if base is not None else TrainConfig()
    return base.replace(**with_recipe(changes, base)).validate()


# flags that only some optimizers or schedulers read (each registration says which it `uses`): set with
# another choice they would be silently ignored
USED_ONLY_BY = {"momentum": ("optimizer", OPTIMIZERS), "nesterov": ("optimizer", OPTIMIZERS),
                "step_size": ("scheduler", SCHEDULERS), "gamma": ("scheduler", SCHEDULERS)}


def check_ignored(cfg: TrainConfig) -> None:
    """A flag that the chosen optimizer, scheduler or data source would ignore is a ConfigError naming it."""
    for name, (owner, registry) in USED_ONLY_BY.items():
        value, default = getattr(cfg, name), SETTINGS_BY_NAME[name].default
        users = [e.name for e in registry.entries() if name in e.uses]
        if value != default and getattr(cfg, owner) not in users:
            flag, owner_flag = SETTINGS_BY_NAME[name].flag, SETTINGS_BY_NAME[owner].flag
            listed = " and ".join([", ".join(users[:-1]), users[-1]] if len(users) > 1 else users)
            raise ConfigError(f"{flag}: {owner_flag} {getattr(cfg, owner)} does not use it (only {listed} "
                              f"{'does' if len(users) == 1 else 'do'}); drop {flag} or change {owner_flag}")
    from lab_workbench.engine.models.catalog import check_builtin_options
    check_builtin_options(cfg.model, cfg.to_dict())
    for flag, needs, missing in _context_rules(cfg):
        if missing:
            raise ConfigError(f"{flag}: needs {needs}; without it the flag does nothing")
    if cfg.augment not in (None, "none") and cfg.dataset in POINT_DATASETS and not cfg.data:
        raise ConfigError(f"--augment: {cfg.dataset} is 2-D points, which flip, crop and shift do not apply to; "
                          f"drop --augment")
    if cfg.data and cfg.dataset is not None and not cfg.recipe:
        raise ConfigError(f"--dataset {cfg.dataset}: ignored with --data {cfg.data} (the HDF5 file is the data "
                          f"set); drop --dataset")


POINT_DATASETS = ("moons", "circles", "blobs")


def _context_rules(cfg: TrainConfig) -> list[tuple[str, str, bool]]:
    """(flag, what it needs, whether that is missing although the flag is set): flags that act only beside another."""
    return [("--unfreeze-at", "--freeze", cfg.unfreeze_at is not None and not cfg.freeze),
            ("--mlflow-uri", "--log-to mlflow", cfg.mlflow_uri is not None and "mlflow" not in (cfg.log_to or [])),
            ("--log-to-strict", "--log-to", cfg.log_to_strict and not cfg.log_to)]


def flag_value(name: str, value, config: dict | None = None) -> str:
    """A config value as its flag would take it: [32, 32] -> '32,32', True/False -> 'on'/'off', and an unset
    (None) field as what is in force: the model's own default, else the flag's placeholder ('off', 'auto')."""
    if value is None:
        from lab_workbench.engine.models.catalog import DEFAULTS
        model = (config or {}).get("model")
        if model in DEFAULTS and getattr(SETTINGS_BY_NAME.get(name), "group", "") == "model":
            if name == "init":
                return "torch default"
            return flag_value(name, DEFAULTS[model].get(name), None) if name in DEFAULTS[model] else "-"
        s = SETTINGS_BY_NAME.get(name)
        return (s.placeholder or "default") if s is not None else "-"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def parse_augment(text: str | None) -> tuple[str, ...]:
    """'none' | 'flip' | 'crop' | 'flip,crop' -> the augmentations to apply."""
    if text is None or text == "none":
        return ()
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    bad = [k for k in kinds if k not in AUGMENTS]
    if bad or not kinds:
        raise ConfigError(f"--augment: expected none or a list of {', '.join(AUGMENTS)}, got {text!r}")
    return kinds
