"""Experiment trackers (--log-to tensorboard,mlflow, or a plugin's): consumers of the trainer's events, like
the run folder's writer, run on a thread of their own so that a slow or failing tracker never stalls nor
stops training. They are a registry like the models (`register_tracker`).

`check_trackers(cfg)` runs before the run folder exists: a tracker that is not installed or not reachable
is a warning (a ConfigError with --log-to-strict). `open_trackers` then starts the ones that are there;
their run ids go to RUN/trackers.json, so that a resumed run continues the same tracker runs. A tracker
that fails later is switched off; its error is recorded in trackers.json.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.core.files import read_json, write_json
from lab_workbench.engine.runs.names import TRACKERS as TRACKERS_FILE
from lab_workbench.engine.core.registry import TRACKERS
JOIN_SECONDS = 60.0  # how long the end of a run waits for the trackers to send what they hold


def register_tracker(name: str, description: str):
    """Decorator: register a tracker class (--log-to NAME). `cls(cfg, run_dir, record)` is called with each
    RunStarted, EpochEnded and RunEnded, on a thread of its own; its `record` dict, if any, is kept in
    RUN/trackers.json and given back as `record` when the run resumes. An optional static `problem(cfg)` says
    why it cannot log (a package missing, a server down), or None."""
    return TRACKERS.register(name, description)


def _problem(name: str, cfg) -> str | None:
    problem = getattr(TRACKERS.get(name).fn, "problem", None)
    return problem(cfg) if problem is not None else None


def check_trackers(cfg) -> tuple[list[str], list[str]]:
    """(the trackers that can log, one warning per tracker that cannot); strict: a ConfigError instead."""
    ready, warnings = [], []
    for name in dict.fromkeys(cfg.log_to or []):
        problem = _problem(name, cfg)
        if problem is None:
            ready.append(name)
        elif cfg.log_to_strict:
            raise ConfigError(f"--log-to {name}: {problem}")
        else:
            warnings.append(f"--log-to {name}: {problem}; training goes on without it")
    return ready, warnings


def read_state(run_dir: Path) -> dict:
    try:
        state = read_json(run_dir / TRACKERS_FILE)
    except Exception:  # absent or torn: the trackers start new runs
        return {}
    return state if isinstance(state, dict) else {}


class Trackers:
    """Takes events on the training thread, hands them to the trackers on a daemon thread."""

    def __init__(self, names: list[str], cfg, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.state = read_state(self.run_dir)
        self.failures: list[str] = []  # one line per tracker switched off; --log-to-strict makes it an error
        self.trackers = {}
        for name in names:
            try:
                self.trackers[name] = TRACKERS.get(name).fn(cfg, self.run_dir, self.state.get(name) or {})
            except Exception as e:  # a plugin's tracker that cannot start is switched off, like one that fails
                self._switch_off(name, e, "failed to start")
        self.queue: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._work, name="lab-trackers", daemon=True)
        self.thread.start()

    def __call__(self, event) -> None:
        from lab_workbench.engine.contract.events import EpochEnded, RunEnded, RunStarted
        if isinstance(event, (RunStarted, EpochEnded, RunEnded)):
            self.queue.put(event)
        if isinstance(event, RunEnded):
            self.queue.put(None)
            self.thread.join(JOIN_SECONDS)

    def _work(self) -> None:
        while (event := self.queue.get()) is not None:
            for name, tracker in list(self.trackers.items()):
                try:
                    tracker(event)
                except Exception as e:  # a tracker's failure must never reach training
                    self._switch_off(name, e, "failed during the run")
                    del self.trackers[name]
                self.state[name] = {**self.state.get(name, {}), **getattr(tracker, "record", {})}
            self._save()

    def _switch_off(self, name: str, error: Exception, when: str) -> None:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        self.state.setdefault(name, {})["error"] = first
        self.failures.append(f"--log-to {name}: {when} ({first})")

    def _save(self) -> None:
        try:
            write_json(self.run_dir / TRACKERS_FILE, self.state, durable=False)
        except Exception:
            pass  # the ids are a convenience for resuming; training does not depend on them


def check_strict(cfg, trackers: "Trackers | None", run_dir, history):
    """`history` of a run that is over, with a warning per tracker that failed during it (an unwritable
    MLflow store, a `tb` that is a file), for the face to tell: trackers.json alone is read by no one.
    With --log-to-strict such a failure is a ConfigError instead."""
    failures = trackers.failures if trackers is not None else []
    if cfg.log_to_strict and failures:
        raise ConfigError(f"{failures[0]}; the run itself ended in {run_dir}")
    history.warnings.extend(f"{f}; training went on without it" for f in failures)
    return history


def open_trackers(names: list[str], cfg, run_dir: str | Path) -> Trackers | None:
    """The event consumer of the trackers that passed check_trackers, or None when there are none."""
    return Trackers(names, cfg, run_dir) if names else None
