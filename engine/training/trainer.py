"""train(): open the run folder, load the data, build the model, restore, run the loop, release."""

from __future__ import annotations

import platform
import time
from pathlib import Path
from typing import Callable

import torch

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.data import Dataset, load_dataset
from lab_workbench.engine.data.points import is_points
from lab_workbench.engine.runtime.device import resolve_device
from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.core.files import remove_temp_files
from lab_workbench.engine.runtime.threads import configure_threads
from lab_workbench.engine.runtime.timings import Timings
from lab_workbench.engine.models import create_model, model_options
from lab_workbench.engine.launch.preflight import check_inputs
from lab_workbench.engine.training.finetune import check_freeze, check_freeze_early, load_initial_weights, set_frozen
from lab_workbench.engine.trackers import check_strict, check_trackers, open_trackers
from lab_workbench.engine.training.distributed import Distributed, peer_lost, per_process_batch, processes_note
from lab_workbench.engine.contract.events import History, PhaseChanged, RunEnded
from lab_workbench.engine.training.loop import TrainLoop
from lab_workbench.engine.training.stops import stop_status
from lab_workbench.engine.training.state import TrainingState
from lab_workbench.engine.runs.folder import RunFolder
from lab_workbench.engine.runs.listing import default_run_name, resolve_run
from lab_workbench.engine.runs.lock import RunLock, check_run_folder, create_run_dir, discard_unstarted
from lab_workbench.engine.runs.writer import RunWriter


def resume_config(run: str | Path, runs_dir: str | Path = "runs", **overrides) -> tuple[TrainConfig, Path]:
    """The saved TrainConfig of a run folder (a path, a name under runs_dir, or 'latest') with the given
    changes, and the folder: engine.runs.plan_resume's answer (a change of a field that may not change on
    resume is a ConfigError naming its flag)."""
    from lab_workbench.engine.runs.operations import plan_resume
    plan = plan_resume(run, {**overrides, "runs_dir": str(runs_dir)})
    if plan is None:
        raise ConfigError(f"--resume {run}: no run to resume under {runs_dir}")
    return plan.config, plan.run_dir


def build_model(cfg: TrainConfig, data: Dataset, device: torch.device) -> torch.nn.Module:
    """The model a config names, sized for the data set, on the device."""
    model = create_model(cfg.model, data.input_shape, data.num_classes, **model_options(cfg))
    if is_points(data.input_shape) and any(isinstance(m, torch.nn.Conv2d) for m in model.modules()):
        raise ConfigError(f"--model {cfg.model}: {data.name} holds 2-D points, not images; use a vector model "
                          f"(logistic, mlp)")
    return model.to(device)


def start_weights(cfg: TrainConfig, model: torch.nn.Module, new: bool, distributed: bool) -> list[str]:
    """A new run's --init-from/--weights loaded (a resume restores its own); the notices for the first line."""
    if distributed and cfg.unfreeze_at:
        raise ConfigError("--unfreeze-at: not under torchrun (DDP syncs only the parameters that train at start)")
    notes = list(model.notes()) if hasattr(model, "notes") else []
    if new:
        notes += load_initial_weights(model, cfg)
    if cfg.freeze:
        check_freeze(model, cfg.freeze)  # a frozen head fails before a folder exists, as does
        set_frozen(model, cfg.freeze, True)  # a pattern that matches nothing
        set_frozen(model, cfg.freeze, False)
    return notes


def open_run_folder(cfg: TrainConfig, resume: str | Path | None, exact: bool = False) -> tuple[Path, RunLock]:
    """The run folder to write (a new one, or the one to resume), locked; a crash's temp files removed."""
    if resume is not None:
        run_dir = check_run_folder(resolve_run(resume, cfg.runs_dir))
        lock = RunLock(run_dir).acquire()
        remove_temp_files(run_dir)
        return run_dir, lock
    return create_run_dir(cfg.runs_dir, cfg.name or default_run_name(cfg.source, cfg.model), exact)


def train(cfg: TrainConfig, on_event: Callable | None = None, should_stop: Callable | None = None,
          resume: str | Path | None = None, dataset: Dataset | None = None, exact_name: bool = False) -> History:
    """Train per `cfg`, writing a run folder and reporting events to `on_event`; returns the History.

    `should_stop()` is polled between batches: a truthy value stops the run at that batch with a resumable
    checkpoint, and a string gives the status ('cancelled' by default, 'interrupted' for signals).
    `resume` is a run folder to continue from its last.pt, at the batch where it stopped. With `exact_name`
    (--resume auto) a new run takes cfg.name or fails: it never becomes name-2.
    """
    timings = Timings()
    _preflight(cfg, new=resume is None, data=dataset is None)
    dist = Distributed(resolve_device(cfg.device))
    configure_threads(cfg.threads)
    locks: list[RunLock] = []
    writers: list[RunWriter] = []

    def folder(ref) -> Path:  # rank 0 opens and locks the folder; the others learn its path
        run_dir = None
        if dist.is_main:
            run_dir, lock = open_run_folder(cfg, ref, exact_name)
            locks.append(lock)
        return Path(dist.broadcast(str(run_dir) if run_dir else None))
    run_dir = None
    try:
        if on_event is not None and dist.is_main:  # the checkpoint and the data take seconds: say so
            on_event(PhaseChanged("loading"))
        run_dir = folder(resume) if resume is not None else None
        state, best = TrainingState.for_resume(run_dir, dist.device) if run_dir is not None else (None, None)
        cfg, batch_notes = global_batch(cfg, state, dist)
        torch.manual_seed(cfg.seed)
        with timings.phase("data"):
            data = _load_data(cfg, dist.device, state, run_dir, dataset)
        setup_started = time.perf_counter()
        model = build_model(cfg, data, dist.device)  # a bad model option fails here, before a folder exists
        notes = start_weights(cfg, model, state is None, dist.active)
        trackers, warnings = check_trackers(cfg) if dist.is_main else ([], [])  # strict: fails before a folder
        if run_dir is None and should_stop is not None:  # a stop while the data loaded: no folder to leave
            first = should_stop()
            if early := stop_status(first, dist):
                return _stopped_before_start(early, timings, on_event if dist.is_main else None)
            should_stop = _replay_first(should_stop, first)
        run_dir = run_dir or folder(None)
        # resumed: also a run stopped before its first checkpoint, which starts over in the same folder
        loop, sink = _make_loop(cfg, data, model, dist, run_dir, trackers, on_event, should_stop, writers,
                                state=state, best=best, resumed=resume is not None, notes=batch_notes + notes,
                                warnings=warnings, timings=timings)
        timings.add("setup", time.perf_counter() - setup_started)
        return _run(loop, sink, cfg, dist, run_dir)
    except BaseException:
        if run_dir is not None and resume is None and dist.is_main:
            discard_unstarted(run_dir)  # a first start that failed before its config.json leaves no shell
        raise
    finally:
        for writer in writers:  # its last writes land before the folder's lock is let go
            writer.close()
        for lock in locks:
            lock.release()
        dist.close()


def _preflight(cfg: TrainConfig, new: bool, data: bool) -> None:
    """What is checked before the data loads: the config, the files it names, and --freeze (a new run's)."""
    cfg.validate()
    check_inputs(cfg, new=new, data=data)
    if new:
        check_freeze_early(cfg)


def _run(loop: TrainLoop, sink, cfg: TrainConfig, dist: Distributed, run_dir: Path) -> History:
    """loop.run(), a process of the run that ended under it told in one line; then the strict trackers' word."""
    try:
        history = loop.run()
    except RuntimeError as e:
        lost = peer_lost(e, dist.rank) if dist.active else None
        if lost is None:
            raise
        raise lost from None
    return check_strict(cfg, sink, run_dir, history)


def global_batch(cfg: TrainConfig, state: TrainingState | None, dist: Distributed) -> tuple[TrainConfig, list[str]]:
    """The config with the run's global batch, checked against the processes, and the first line's note on them.

    --batch-size is the run's global batch, shared among the processes. A checkpoint from before (it has no
    world_size) trained with --batch-size per process: its global batch is that times its processes."""
    before = state.world if state is not None else None
    notes = []
    if state is not None and state.world_size is None and before > 1:
        notes.append(f"--batch-size {cfg.batch_size} was per process then: the run's global batch is "
                     f"{cfg.batch_size * before}")
        cfg = cfg.replace(batch_size=cfg.batch_size * before)
    per_process_batch(cfg.batch_size, dist.world)
    if dist.world > 1 or (before or 1) != dist.world:
        notes.append(processes_note(dist.world, cfg.batch_size, before))
    return cfg, notes


def _make_loop(cfg, data, model, dist, run_dir: Path, trackers, on_event, should_stop, writers: list,
               **start) -> tuple[TrainLoop, object]:
    """(the loop, the open trackers): its events fanned out to the run folder's writer (rank 0 alone), the
    trackers and `on_event`; `start` is TrainLoop's state, best, resumed, notes, warnings and timings."""
    emit, sink, flush = (lambda event: None), None, None
    if dist.is_main:
        writers.append(RunWriter(run_dir, {"world_size": dist.world, "torch": torch.__version__,
                                           "python": platform.python_version()}))
        sink = open_trackers(trackers, cfg, run_dir)
        emit, flush = _fanout(writers[0], sink, on_event), writers[0].wait
    return TrainLoop(cfg, data, model, dist, emit, should_stop, str(run_dir), flush=flush, **start), sink


def _replay_first(should_stop: Callable, first) -> Callable:
    """should_stop whose first poll (the loop's, before batch 1) answers what the poll before the folder got:
    the callable is polled as many times as batches start, as it always was (tests count on it)."""
    answers = [first]

    def poll():
        return answers.pop() if answers else should_stop()
    return poll


def _stopped_before_start(status: str, timings: Timings, on_event: Callable | None) -> History:
    """A stop (a signal, a cancel, the time limit) while the data loaded: nothing was trained, so no folder is
    made; the History has no run_dir and the end is reported as for any run."""
    history = History(status=status)
    if on_event is not None:
        on_event(RunEnded(status, history, {}, "", None, timings.to_dict()))
    return history


def _load_data(cfg: TrainConfig, device, state: TrainingState | None, run_dir, given: Dataset | None) -> Dataset:
    """The run's data; a resumed run keeps its normalisation and how it streamed (blocks, window: the epoch
    order depends on them), and must find the data's shape it trained on."""
    stats = (state.data["mean"], state.data["std"]) if state is not None else None
    layout = state.data.get("stream") if state is not None else None
    data = given or load_dataset(cfg, device, stats=stats, layout=layout)
    if state is not None:
        state.check_data(data.input_shape, run_dir)
    return data


def _fanout(*callbacks) -> Callable:
    active = [c for c in callbacks if c is not None]

    def emit(event) -> None:
        for c in active:
            c(event)
    return emit
