"""labtui without its terminal: a hangup (an SSH connection that drops) loses the screen, never the run.

On a hangup the kernel and a login shell send SIGHUP and SIGCONT together. Textual answers SIGCONT by resuming
its application mode on the dead terminal: a new writer thread dies on its first write, its queue fills, and the
main thread blocks forever in `queue.put`, so nothing that runs on the event loop can be relied on. The hangup
is therefore a plain signal handler, run on the main thread wherever that thread is (even blocked in that put),
and it never returns: the terminal's descriptors point at /dev/null, the driver writes nothing more, a paused run
resumes, and the handler waits for the runs to end as `lab train` would, then ends the process. SIGTERM, SIGINT
and SIGUSR1 stop the runs at this batch with a checkpoint; a second one ends the process at once.
"""

from __future__ import annotations

import os
import signal

from lab_workbench.engine.runtime import detach_from_terminal

STOPS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)
# signals whose handlers must run on the main thread: no other thread of labtui takes them (a signal that
# another thread takes does not wake a main thread waiting on a lock)
MAIN_THREAD_SIGNALS = {signal.SIGHUP, *STOPS}
EXIT_CODES = {"completed": 0, "early-stopped": 0, "diverged": 1, "failed": 1}


def block_main_thread_signals() -> None:
    """Leave MAIN_THREAD_SIGNALS to the main thread; called at the start of every thread labtui starts (the
    threads that one starts, torch's and the run writer's included, inherit the mask)."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, MAIN_THREAD_SIGNALS)


class Headless:
    """The process after its terminal went away: what the live runs need to finish, and nothing else."""

    def __init__(self, sources: list, driver=None) -> None:
        self.sources = sources  # the live sources still training or loading
        self.driver = driver
        self.signum: int | None = None
        self.code: int | None = None  # set when a signal stopped the runs

    def run(self) -> None:
        """Detach, let the runs finish, and end the process with their exit status. Never returns."""
        detach_from_terminal()
        if self.driver is not None and hasattr(self.driver, "detach"):
            self.driver.detach()
        for s in STOPS:
            signal.signal(s, self._stop)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        for source in self.sources:
            source.control.resume()  # a paused run has no one left to unpause it
        for source in self.sources:
            while not source.finished.wait(0.5):  # a timed wait: signal handlers run in between
                pass
        os._exit(self.exit_code())

    def exit_code(self) -> int:
        if self.signum is not None:
            return 128 + self.signum
        return max([EXIT_CODES.get(s.status or "failed", 1) for s in self.sources] or [0])

    def _stop(self, signum, frame) -> None:
        if self.signum is not None:  # a second signal: the clean-up is abandoned (the files stay whole)
            os._exit(128 + signum)
        self.signum = signum
        for source in self.sources:
            source.cancel("interrupted")
