"""Textual's Linux driver, except that input at its end (a hung-up terminal, or stdin at EOF) ends the input
thread and tells the app, instead of reading EOF in a loop at 100% CPU (which starved the training thread and
the signal handlers until the run was lost; Textual 8's loop only stops on `exit_event`)."""

from __future__ import annotations

import os
import selectors
import stat
import termios
from codecs import getincrementaldecoder

from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver


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
