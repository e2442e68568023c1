"""Messages the training worker posts to the UI thread."""

from textual.message import Message


class TrainingEvent(Message):
    """An engine event (RunStarted, BatchEnded, EpochEnded, RunEnded), delivered on the UI thread."""

    def __init__(self, event) -> None:
        super().__init__()
        self.event = event


class TrainingFailed(Message):
    """The run could not start or crashed; `error` is one line for people."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error
