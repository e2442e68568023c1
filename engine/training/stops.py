"""A stop asked for through should_stop (a signal, a cancel, the time limit, a pruned trial): its statuses."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lab_workbench.engine.training.distributed import Distributed

STOPPED = ("cancelled", "interrupted", "pruned")  # a stop asked for: checkpoint at this batch, no test score


class Stopped(Exception):
    """should_stop asked for a stop during an evaluation: the run stops there, with `status`."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def stop_status(value, dist: Distributed) -> str | None:
    """What a should_stop() answer means, every rank agreeing: None (go on) or the run's status ('cancelled'
    unless the answer names one)."""
    return status_of(dist.stop(value))


def status_of(value) -> str | None:
    """A should_stop() answer as a run status: None (go on), the status it names, else 'cancelled'."""
    return (value if isinstance(value, str) else "cancelled") if value else None
