"""Cancel and pause for a run in a background thread: the trainer polls `should_stop` between batches."""

import threading
import time


class RunControl:
    """Thread-safe flags; pausing blocks the trainer inside should_stop, so no engine change is needed."""

    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self._paused_at = None
        self._paused_total = 0.0
        self._cancel = threading.Event()
        self._reason = "interrupted"
        self._running = threading.Event()
        self._running.set()

    def cancel(self, reason: str = "interrupted") -> None:
        """Stop the run before its next batch; `reason` becomes its status (resumable either way)."""
        self._reason = reason
        self._cancel.set()
        self._unpause()  # a paused run must wake up to see the cancel

    def toggle_pause(self) -> bool:
        """Pause or resume; returns True when now paused."""
        if self._running.is_set():
            self._paused_at = self.clock()
            self._running.clear()
            return True
        self._unpause()
        return False

    def resume(self) -> None:
        """Unpause, if paused (a run whose terminal went away has no one left to do it)."""
        self._unpause()

    def _unpause(self) -> None:
        if self._paused_at is not None:
            self._paused_total += self.clock() - self._paused_at
            self._paused_at = None
        self._running.set()

    @property
    def paused_seconds(self) -> float:
        """Time spent paused so far: not training time (the trainer excludes it from `seconds` too)."""
        current = self.clock() - self._paused_at if self._paused_at is not None else 0.0
        return self._paused_total + current

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def should_stop(self):
        self._running.wait()
        return self._reason if self._cancel.is_set() else None
