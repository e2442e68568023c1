"""Saying which run a short reference ('latest', a name under --runs-dir) resolved to."""

import sys
from pathlib import Path


def announce(target: str, loaded, json_out: bool = False) -> None:
    """'latest' or a bare name: print the run folder it means (to stderr under --json, whose stdout is data)."""
    if Path(target).exists():
        return  # a path given as such needs no translation
    where = loaded.run_dir or loaded.path
    which = Path(loaded.path).name if loaded.run_dir else ""
    line = f"{target}: {where}" + (f" ({which})" if which else "")
    print(line, file=sys.stderr if json_out else sys.stdout, flush=True)
