"""Checks of a config's file arguments before anything loads (no torch): a missing --data, --weights or
--init-from is one line at once, not after seconds of data loading. And --init-from RUN's architecture.
"""

from __future__ import annotations

from pathlib import Path

from lab_workbench.engine.core.errors import ConfigError

# the fields that make a model's parameters (names, shapes) and what it computes: what --init-from RUN takes
ARCHITECTURE = ("model", "hidden", "channels", "layers_per_block", "pool_every", "activation", "batchnorm",
                "bottleneck")


def init_from_path(ref: str, runs_dir: str | Path = "runs", flag: str = "--init-from") -> Path:
    """The weights file that --init-from (or --weights) names: a file, or a run folder's (a path or a name
    under runs_dir) best.pt, else last.pt. A ConfigError naming the flag when there is none."""
    from lab_workbench.engine.runs.folder import RunFolder
    path = Path(ref).expanduser()
    if not path.exists() and (Path(runs_dir) / ref).is_dir():
        path = Path(runs_dir) / ref
    if path.is_dir():
        folder = RunFolder(path)
        if folder.is_sweep():
            raise ConfigError(f"{flag} {ref}: {folder.not_run_reason()}")
        if not folder.is_run():
            raise ConfigError(f"{flag} {ref}: a folder that is no run (no config.json); expected a run folder "
                              f"or a weights file")
        found = folder.existing_checkpoint()
        if found is None:
            raise ConfigError(f"{flag} {ref}: the run has no best.pt or last.pt (it stopped before its first "
                              f"epoch ended)")
        return found
    if not path.is_file():
        raise ConfigError(f"{flag} {ref}: no such run folder or weights file")
    return path


def run_of(ref: str | None, runs_dir: str | Path = "runs") -> Path | None:
    """The run folder that --init-from names, or None when it names a file (or nothing)."""
    if not ref:
        return None
    path = Path(ref).expanduser()
    if not path.exists() and (Path(runs_dir) / ref).is_dir():
        path = Path(runs_dir) / ref
    return path if path.is_dir() else None


def check_warmup(cfg) -> None:
    """--warmup (epochs) ends before the run does: a warm-up as long as the run never reaches --lr (onecycle's
    rising part would be clamped), which no one asks for on purpose. The run's length is --epochs: known
    before the data loads (the steps an epoch has are not needed to compare epochs with epochs)."""
    if cfg.warmup and cfg.warmup >= cfg.epochs:
        source = ""
        if cfg.recipe:
            from lab_workbench.engine.settings.recipes import recipe_values
            try:
                if recipe_values(cfg.recipe, cfg.dataset).get("warmup") == cfg.warmup:
                    source = f" (from --recipe {cfg.recipe})"
            except ConfigError:
                pass  # the recipe's own error comes from where it is applied
        raise ConfigError(f"--warmup {cfg.warmup:g}{source}: expected fewer epochs of warm-up than the run has "
                          f"(--epochs {cfg.epochs}); the learning rate would never reach --lr")


def check_inputs(cfg, new: bool = True, data: bool = True) -> None:
    """A new run's --warmup fits its --epochs (a resume only lengthens a run), and every file a config reads is
    there: --data (and the data set's files; data=False: the caller holds the data), and for a new run (a
    resume restores its own weights) --weights and --init-from."""
    if new:
        check_warmup(cfg)
    if data:
        from lab_workbench.engine.data.sources import check_source
        check_source(cfg)
    if not new:
        return
    if cfg.init_from and cfg.weights:
        raise ConfigError("--weights: give --init-from or --weights, not both")
    if cfg.weights:
        if not cfg.model.startswith("tv:"):
            raise ConfigError(f"--weights: only for torchvision models (--model tv:NAME), not {cfg.model}")
        if not cfg.download and not Path(cfg.weights).expanduser().is_file():
            raise ConfigError(f"--weights {cfg.weights}: no such file (nothing is downloaded unless --download "
                              f"is given)")
    if cfg.init_from:
        init_from_path(cfg.init_from, cfg.runs_dir)


def with_run_architecture(values: dict) -> dict:
    """The given values with, when --init-from names a run, that run's architecture fields that were not
    given: its weights then fit without the flags repeated (and the new run records them)."""
    run = run_of(values.get("init_from"), values.get("runs_dir") or "runs")
    if run is None:
        return values
    from lab_workbench.engine.runs.folder import RunFolder
    try:
        saved = RunFolder(run).read_config().get("config") or {}
    except Exception:  # an unreadable record: init_from_path names the problem, the shapes are checked later
        return values
    if values.get("model", saved.get("model")) != saved.get("model"):  # another model: none of its options fit
        return values
    taken = {k: saved[k] for k in ARCHITECTURE if saved.get(k) is not None and k not in values}
    return {**taken, **values}
