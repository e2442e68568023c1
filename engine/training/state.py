"""The training state: everything a checkpoint (last.pt, best.pt) holds, and the one place that knows it.

A checkpoint is a plain dict of tensors and plain types, so that torch.load(weights_only=True) reads it. Its
keys follow the PyTorch tutorials' (`model_state_dict`, `optimizer_state_dict`, `scheduler_state_dict`,
`epoch`, `best_accuracy`) so that their load_checkpoint helpers read lab's files; lab adds its own. The loop
writes a TrainingState (TrainLoop.snapshot) and restores one; a resume, eval and export, and fine-tuning
read one. The format version, the checks of a loaded file and the migration of older files live here; the
bytes on disk (sealed, checksummed, written atomically) are engine/runs/checkpoint.py's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from lab_workbench.engine.core.errors import CheckpointError, ConfigError
from lab_workbench.engine.runs.checkpoint import load_checkpoint
from lab_workbench.engine.runs.folder import RunFolder
from lab_workbench.engine.training.epoch_state import EpochAccum, set_rng_state
from lab_workbench.engine.training.state_check import check_resume_state, check_run_files

FORMAT_VERSION = 2  # 2: mid-epoch position (epoch_step, epoch_perm, epoch_accum), checksums
# field -> checkpoint key, in the order of the file
KEYS = {"model": "model_state_dict", "optimizer": "optimizer_state_dict", "scaler": "scaler_state_dict",
        "scheduler": "scheduler_state_dict", "epoch": "epoch", "best_accuracy": "best_accuracy",
        "best_val_loss": "best_val_loss", "best_epoch": "best_epoch", "bad_epochs": "bad_epochs", "step": "step",
        "config": "config", "data": "data", "history": "history", "rng": "rng", "epoch_step": "epoch_step",
        "world_size": "world_size", "raw_model": "raw_model_state_dict", "ema_updates": "ema_updates",
        "rank_rng": "rank_rng", "epoch_perm": "epoch_perm", "epoch_accum": "epoch_accum"}
OPTIONAL = ("raw_model", "ema_updates", "rank_rng", "epoch_perm", "epoch_accum")  # written only when they apply
RESUME_KEYS = ("model_state_dict", "optimizer_state_dict", "epoch", "config", "data", "history", "rng",
               "best_accuracy")
LEVELS = ("weights", "model", "resume")  # what a reader needs: the weights; + config and data; everything


@dataclass
class TrainingState:
    """A checkpoint as named fields. `model` holds the weights that are evaluated and exported (the average
    when --ema is on; `raw_model` then holds the trained ones)."""

    model: dict
    config: dict | None = None
    data: dict | None = None  # the data facts: input_shape, classes, mean, std, how it streamed
    optimizer: dict | None = None
    scaler: dict | None = None
    scheduler: dict | None = None
    epoch: int | None = None  # the last completed epoch
    best_accuracy: float = -1.0
    best_val_loss: float = math.inf
    best_epoch: int | None = None
    bad_epochs: int = 0  # epochs since the last improvement (--patience)
    step: int = 0  # optimizer steps so far
    history: dict | None = None
    rng: dict | None = None
    epoch_step: int = 0  # batches done in the epoch after `epoch`: 0 at an epoch's end
    world_size: int | None = None  # None: a checkpoint from before the batch was global (see `world`)
    raw_model: dict | None = None
    ema_updates: int | None = None
    rank_rng: list | None = None  # each rank's torch RNG state (dropout masks differ per rank)
    epoch_perm: torch.Tensor | None = None  # the shuffle of the epoch in progress
    epoch_accum: dict | None = None  # that epoch's sums so far, over every rank
    extra: dict = field(default_factory=dict)  # keys this lab does not know: kept on a round trip
    where: Path | str = field(default="checkpoint", compare=False)  # the file, for error messages
    ended: bool = field(default=False, compare=False)  # its run folder says the run ended (results.json)

    # ---- to and from the dict ----
    def to_dict(self) -> dict:
        """The checkpoint dict of this state, stamped with this format's version."""
        d = {key: getattr(self, name) for name, key in KEYS.items()
             if name not in OPTIONAL or getattr(self, name) is not None}
        return {**d, **self.extra, "format_version": FORMAT_VERSION}

    @classmethod
    def from_dict(cls, d: dict, where="checkpoint", level: str = "model") -> "TrainingState":
        """The state of a loaded checkpoint dict, checked for what a reader at `level` needs (see LEVELS) and
        migrated to this format; a missing or ill-typed field is one CheckpointError naming `where`."""
        if level not in LEVELS:
            raise ValueError(f"level: expected one of {LEVELS}, got {level!r}")
        if not isinstance(d, dict) or "model_state_dict" not in d:
            raise CheckpointError(f"{where}: not a lab checkpoint (no 'model_state_dict')")
        check_version(d, where)
        if level == "resume":
            missing = [k for k in RESUME_KEYS if k not in d]
            if missing:
                raise CheckpointError(f"{where}: cannot resume from it (no {', '.join(missing)})")
            check_resume_state(d, where)
        elif level == "model" and ("config" not in d or "data" not in d):
            raise CheckpointError(f"{where}: not a lab checkpoint (no 'config' or 'data' entry)")
        d = migrate(d)
        names = {key: name for name, key in KEYS.items()}
        known = {names[k]: v for k, v in d.items() if k in names}
        extra = {k: v for k, v in d.items() if k not in names and k != "format_version"}
        return cls(**known, extra=extra, where=where)

    @classmethod
    def load(cls, path: str | Path, device="cpu", level: str = "model") -> "TrainingState":
        """The checkpoint file at `path` (checksum verified, weights_only), read for `level`."""
        return cls.from_dict(load_checkpoint(path, map_location=device), Path(path), level)

    @classmethod
    def for_resume(cls, run_dir: str | Path, device) -> tuple["TrainingState | None", dict | None]:
        """(last.pt, best.pt's weights) of a run folder to resume; (None, None) when it stopped before its
        first save."""
        check_run_files(run_dir)
        folder = RunFolder(run_dir)
        if not folder.last.is_file():
            return None, None
        state = cls.load(folder.last, device, "resume")
        state.ended = folder.ended()
        best = cls.load(folder.best, device, "weights").model if folder.best.is_file() else None
        return state, best

    # ---- what a resume reads ----
    @property
    def world(self) -> int:
        """How many processes trained up to this checkpoint: recorded since the batch became global; before,
        each rank's RNG state was (one per process, none for a single process)."""
        return int(self.world_size or len(self.rank_rng or [None]))

    @property
    def mid_epoch(self) -> bool:
        """Saved inside an epoch (a stop), with the position to continue from."""
        return self.epoch_step is not None and self.epoch_perm is not None

    def check_epochs(self, epochs: int) -> None:
        """A ConfigError when --epochs asks for no more than the run has done."""
        done = self.epoch
        if epochs < done or (epochs == done and not self.epoch_step and self.ended):
            raise ConfigError(f"--epochs {epochs}: the run already has {done} epochs; "
                              f"ask for more (e.g. --epochs {done + 5}) to continue it")

    def check_data(self, input_shape, run_dir) -> None:
        """A ConfigError when the data's shape differs from the one the run trained on."""
        if list(self.data.get("input_shape", input_shape)) != list(input_shape):
            raise ConfigError(f"--resume {run_dir}: the data's shape {list(input_shape)} differs from the "
                              f"run's {self.data.get('input_shape')}")

    def load_into(self, model, ema, opt, scaler, schedule, gen: torch.Generator, dist) -> None:
        """Weights, optimizer, grad scaler, plateau's state and RNGs into the parts of a run; a part that does
        not fit (another model or optimizer) is one CheckpointError."""
        try:
            model.load_state_dict(self.raw_model or self.model)
            if ema is not None and self.raw_model:
                ema.load_state_dict(self.model, self.ema_updates or 0)
            opt.load_state_dict(self.optimizer)
            if self.scaler:
                scaler.load_state_dict(self.scaler)
            schedule.load_state_dict(self.scheduler)
            set_rng_state(gen, self.rng)
            if dist.active and len(self.rank_rng or []) == dist.world:
                torch.set_rng_state(self.rank_rng[dist.rank])
        except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise CheckpointError(f"{self.where}: does not match this run's model or optimizer "
                                  f"({first[:160]})") from None

    def position(self, n_train: int, steps: int, streamed: bool, world: int) -> tuple[torch.Tensor, int]:
        """(the epoch's shuffle, batches done) of a mid-epoch checkpoint, checked against the data and the
        processes: a shuffle of other data would train on the wrong samples silently."""
        perm, where = self.epoch_perm, self.where
        ok = isinstance(perm, torch.Tensor) and perm.dim() == 1 and len(perm) == n_train \
            and not perm.is_floating_point()
        if not ok or not torch.equal(torch.sort(perm.long()).values, torch.arange(n_train)):
            raise CheckpointError(f"{where}: epoch_perm is not a shuffle of the {n_train} training samples; "
                                  f"the checkpoint does not belong to this data")
        step = self.epoch_step
        if step and streamed and self.world != world:
            raise ConfigError(f"--resume: {where} stopped mid-epoch on {self.world} process(es), each reading its "
                              f"own stretch of a streamed epoch; resume it on {self.world}, or from an epoch's end")
        if not isinstance(step, int) or not 0 <= step <= steps:
            raise CheckpointError(f"{where}: epoch_step {step!r} is not a batch of the {steps} of an epoch")
        return perm, step

    def accum(self, device, is_main: bool) -> EpochAccum:
        """The sums of the epoch in progress: every rank's, held by rank 0 (the others start from zero)."""
        acc = EpochAccum.from_state(self.epoch_accum, device)
        return EpochAccum.zeros(device) if self.world_size is not None and not is_main else acc


def check_version(d: dict, where) -> None:
    """A CheckpointError for a file of a format newer than this lab reads (an older one is migrated)."""
    version = d.get("format_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CheckpointError(f"{where}: format_version: expected an integer >= 1, got {str(version)[:40]!r}")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{where}: written by a newer lab (checkpoint format {version}; this lab reads up "
                              f"to {FORMAT_VERSION}); upgrade lab to read it")


def migrate(d: dict) -> dict:
    """A checkpoint dict of an older format in this one (a new dict; `d` is left as it is).

    Format 1 (no format_version) was saved at epoch ends only: no position in an epoch (epoch_step 0), no
    scaler_state_dict. Files from before the batch was global have no world_size (kept None: the run's
    --batch-size was per process, see trainer.global_batch). A key that a file lacks takes TrainingState's
    default (step 0, best_val_loss inf, bad_epochs 0). Before issue 21 `scheduler_state_dict` was torch's
    own scheduler's: ReduceLROnPlateau's lr scale is its last lr over the run's --lr.
    """
    d = dict(d)
    sched, config = d.get("scheduler_state_dict"), d.get("config")
    lr = config.get("lr") if isinstance(config, dict) else None  # eval reads a config of any type, then checks it
    if isinstance(sched, dict) and sched and "schedule" not in sched and "scale" not in sched:
        last = sched.get("_last_lr")
        if isinstance(last, list) and last and isinstance(lr, (int, float)) and lr > 0:
            d["scheduler_state_dict"] = {**sched, "scale": last[0] / lr}
    return d


def model_weights(state, where) -> dict:
    """The model's tensors in a loaded weights file: a lab checkpoint's `model_state_dict`, a `state_dict`
    entry (Lightning and others), or the dict itself; DDP's `module.` prefix removed. A lab checkpoint of a
    newer format is a CheckpointError."""
    if isinstance(state, dict) and "model_state_dict" in state:
        check_version(state, where)
    if isinstance(state, dict):
        state = state.get("model_state_dict", state.get("state_dict", state))
    if not isinstance(state, dict):
        return state
    return {k[7:] if isinstance(k, str) and k.startswith("module.") else k: v for k, v in state.items()}
