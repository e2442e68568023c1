"""Messages a live run's worker posts to its dashboard: one class per engine event, each with its own handler
(`on_run_started_message`, `on_batch_ended_message`, ...) on tui/widgets/dashboard.py's Dashboard."""

from __future__ import annotations

from textual.message import Message


class EventMessage(Message):
    """An engine event, delivered on the UI thread; the dashboard is its only reader (it does not bubble)."""

    bubble = False

    def __init__(self, event) -> None:
        super().__init__()
        self.event = event


class RunStartedMessage(EventMessage):
    """The run has its folder, model and device: engine RunStarted."""


class BatchEndedMessage(EventMessage):
    """A batch's loss and position in its epoch (throttled by the source): engine BatchEnded."""


class PhaseChangedMessage(EventMessage):
    """What the run does now, with progress for counted phases: engine PhaseChanged."""


class CheckpointReadyMessage(Message):
    """A checkpoint is being saved. Carries no state: the UI must not hold the run's tensors."""

    bubble = False


class EpochEndedMessage(EventMessage):
    """An epoch's row and confusion matrix: engine EpochEnded."""


class BoundaryReadyMessage(EventMessage):
    """Decision regions of a 2-D points run: engine BoundaryReady."""


class RunEndedMessage(EventMessage):
    """The run's final status and test metrics: engine RunEnded."""


class TrainingFailed(Message):
    """The run could not start or crashed; `error` is one line for people."""

    bubble = False

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


_BY_EVENT = {"RunStarted": RunStartedMessage, "BatchEnded": BatchEndedMessage,
             "PhaseChanged": PhaseChangedMessage, "EpochEnded": EpochEndedMessage,
             "BoundaryReady": BoundaryReadyMessage, "RunEnded": RunEndedMessage}


def message_for(event) -> Message | None:
    """The message that carries `event` to the dashboard; None for events the dashboard does not show."""
    name = type(event).__name__
    if name == "CheckpointReady":
        return CheckpointReadyMessage()
    cls = _BY_EVENT.get(name)
    return cls(event) if cls is not None else None
