"""Textual's Linux driver, made to survive a terminal that goes away (an SSH connection that drops):

- input at its end (a hung-up terminal, or stdin at EOF) ends the input thread and tells the app, instead of
  reading EOF in a loop at 100% CPU (Textual 8's loop only stops on `exit_event`);
- the output thread outlives a failed write: Textual's dies on its first EIO, its queue fills, and the main
  thread then blocks forever in `queue.put`, where no signal handler may ever run;
- the driver's threads block the stop signals, so the kernel hands SIGHUP, SIGTERM and SIGINT to the main
  thread, which is where Python runs their handlers (a signal taken by another thread does not wake a main
  thread that waits on a lock);
- once detached (tui/headless.py) it writes nothing and ignores SIGCONT, which would start application mode
  again on the dead terminal.
"""

from __future__ import annotations

import os
import selectors
import signal
import stat
import termios
from codecs import getincrementaldecoder

from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.drivers import linux_driver
from textual.drivers._writer_thread import WriterThread
from textual.drivers.linux_driver import LinuxDriver

from .headless import MAIN_THREAD_SIGNALS


class SurvivingWriterThread(WriterThread):
    """Textual's output thread, except that a write that fails (EIO: the terminal hung up) does not end it: it
    goes on taking what is queued, so that no writer ever waits on a full queue."""

    failed = False

    def run(self) -> None:
        while True:
            text = self._queue.get()
            if text is None:
                break
            if self.failed:
                continue
            try:
                self._file.write(text)
                if self._queue.qsize() == 0:
                    self._file.flush()
            except (OSError, ValueError):
                self.failed = True
        try:
            self._file.flush()
        except (OSError, ValueError):
            pass


class LabDriver(LinuxDriver):
    """LinuxDriver whose input thread returns on EOF and calls the app's `input_gone` on its loop, and which
    can be detached from a terminal that went away: then it writes nothing and ignores SIGCONT (which would
    start application mode again on the dead terminal, see tui/headless.py)."""

    detached = False

    def detach(self) -> None:
        """Write nothing more: the terminal is gone."""
        self.detached = True

    def write(self, data: str) -> None:
        if not self.detached:
            super().write(data)

    def start_application_mode(self) -> None:
        """Textual's, with the surviving output thread; the threads it starts (input, output) inherit a mask
        that leaves the stop signals to the main thread."""
        before = signal.pthread_sigmask(signal.SIG_BLOCK, MAIN_THREAD_SIGNALS)
        linux_driver.WriterThread = SurvivingWriterThread
        try:
            super().start_application_mode()
        finally:
            linux_driver.WriterThread = WriterThread
            signal.pthread_sigmask(signal.SIG_SETMASK, before)

    def _sigcont_application(self, *args) -> None:
        if not self.detached and _terminal_alive(self.fileno):
            super()._sigcont_application(*args)

    def run_input_thread(self) -> None:
        """Textual's loop, with EOF as its end (a read of nothing when select said readable)."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        try:
            while not self.exit_event.is_set():
                for _key, mask in selector.select(0.1):
                    if mask & selectors.EVENT_READ and not self._feed(parser, decode, os.read(self.fileno, 4096)):
                        self._input_gone()
                        return
                for event in parser.tick():
                    self.process_message(event)
        except OSError:  # EIO from a hung-up terminal
            self._input_gone()
        finally:
            selector.close()
            try:
                for _ in parser.feed(""):
                    pass
            except (EOFError, ParseError):
                pass

    def _feed(self, parser: XTermParser, decode, data: bytes) -> bool:
        """Feed what was read to the parser; False at end of input."""
        if not data:
            return False
        for event in parser.feed(decode(data)):
            self.process_message(event)
        return True

    def _input_gone(self) -> None:
        if self.detached:
            return
        gone = getattr(self._app, "input_gone", None)
        if gone is not None:
            self._loop.call_soon_threadsafe(gone)


def _terminal_alive(fd: int) -> bool:
    """Whether fd is a terminal that still answers (a hung-up one fails with EIO), or no terminal at all; isatty()
    is False for a hung-up terminal, so a character device is what is tested."""
    try:
        if not stat.S_ISCHR(os.fstat(fd).st_mode):
            return True
        termios.tcgetattr(fd)
        return True
    except (OSError, termios.error):
        return False
