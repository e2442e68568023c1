"""What a process does when its terminal goes away (SIGHUP): keep its files, lose only the screen."""

from __future__ import annotations

import os
import stat


def detach_from_terminal() -> None:
    """Point stdout and stderr at /dev/null when they are a terminal (a hung-up one fails every write with
    EIO, which would kill the run); files and pipes stay as they are. isatty() fails on a hung-up terminal,
    so a character device is what is tested."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in (1, 2):
            try:
                terminal = stat.S_ISCHR(os.fstat(fd).st_mode)
            except OSError:
                terminal = True
            if terminal:
                os.dup2(devnull, fd)
    finally:
        os.close(devnull)
