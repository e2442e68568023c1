"""The command line of a `lab` process that lab itself starts (a sweep's points, a Slurm task)."""

import sys

# A plain `-m` child would put the working folder first on the import path, so that a `commands/` or a
# `torch.py` there would run instead of lab's own: -P (3.11+) leaves it off, and on 3.10 the -c program
# takes it off before importing anything
_NO_CWD = "import sys; del sys.path[0]; from lab_workbench.commands.app import main; main()"


def lab_argv(*args: str) -> list[str]:
    """[python, ..., *args]: `lab ARGS` run by this interpreter without the working folder on the path."""
    if sys.version_info >= (3, 11):
        return [sys.executable, "-P", "-m", "lab_workbench.commands", *args]
    return [sys.executable, "-c", _NO_CWD, *args]
