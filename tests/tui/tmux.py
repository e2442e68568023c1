"""labtui in a real terminal: tmux at 80x24, started through an interactive bash (as an SSH login has it: job
control, a shell that forwards SIGHUP) or by `exec` (labtui leads the session itself)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import ROOT, wait_for

HELPER = Path(__file__).with_name("stalled_labtui.py")


def alive(pid: int) -> bool:
    """Whether pid is a process that has not ended (a zombie tmux has not reaped yet counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


class Terminal:
    """One tmux server with one 80x24 session running `labtui` (the stalled helper) in `cwd`."""

    def __init__(self, cwd: Path, shell: str, phase: str, marker: Path, flags: str) -> None:
        self.tmux = ["tmux", "-L", f"lab-{os.getpid()}-{time.monotonic_ns()}"]
        line = (f"cd {shlex.quote(str(cwd))} && env -u COLORTERM TERM=xterm OMP_NUM_THREADS=1 "
                f"PYTHONPATH={ROOT} {sys.executable} {HELPER} {phase} {marker} {flags}")
        if shell == "exec":
            self._tmux("new-session", "-d", "-s", "t", "-x", "80", "-y", "24", f"exec sh -c {shlex.quote(line)}")
        else:  # an interactive bash with job control, as an SSH login has it
            self._tmux("new-session", "-d", "-s", "t", "-x", "80", "-y", "24",
                       "env -u COLORTERM bash --norc --noprofile -i")
            assert wait_for(lambda: "$" in self.screen() or "#" in self.screen(), 20), "bash never prompted"
            self.keys(line, "Enter")

    def _tmux(self, *args, check=True) -> subprocess.CompletedProcess:
        return subprocess.run([*self.tmux, *args], capture_output=True, text=True, check=check)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t", check=False).stdout

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "t", *keys)

    def hang_up(self) -> None:
        """The connection drops: tmux closes the terminal, the kernel sends SIGHUP and SIGCONT."""
        self._tmux("kill-session", "-t", "t")

    def close(self) -> None:
        self._tmux("kill-server", check=False)
