"""How much memory this process may still allocate, and a check made before a large allocation.

A size read from a file or a flag (a label of 10^9, an HDF5 shape of 10^11 bytes, `--size 60000x60000`,
`--hidden 4000000000`) would otherwise be allocated as asked and get the process (or a neighbour) killed
by the kernel's OOM killer: a check first turns it into one line naming the input.
"""

from __future__ import annotations

import os
import resource

from lab_workbench.engine.core.errors import DataError
from lab_workbench.engine.core.units import format_bytes


def read_int(path: str) -> int | None:
    """The integer a /proc or /sys file holds; None when it cannot be read or says something else."""
    try:
        text = open(path, encoding="ascii").read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def meminfo_available() -> int | None:
    """MemAvailable from /proc/meminfo, in bytes; None off Linux."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_headroom() -> int | None:
    """The cgroup's limit less what it uses now (v2, then v1); None when unlimited or unknown."""
    for limit_file, used_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                  ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                   "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        limit, used = read_int(limit_file), read_int(used_file)
        if limit is not None and used is not None and limit < 1 << 60:
            return max(0, limit - used)
    return None


def _address_space_headroom() -> int | None:
    """RLIMIT_AS less the address space this process maps now (ulimit -v, batch schedulers)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return soft
    return max(0, soft - mapped)


def available_memory() -> int | None:
    """Bytes this process may still allocate: min(MemAvailable, cgroup limit - usage, RLIMIT_AS headroom);
    None where none of them can be read (not Linux)."""
    known = [v for v in (meminfo_available(), _cgroup_headroom(), _address_space_headroom()) if v is not None]
    return min(known) if known else None


def check_memory(nbytes: int | float, what: str, hint: str = "") -> None:
    """Raise DataError naming `what` when `nbytes` exceed the memory available now."""
    free = available_memory()
    if free is None or nbytes <= free:
        return
    raise DataError(f"{what}: needs {format_bytes(nbytes)} of memory but only {format_bytes(free)} is available"
                    + (f"; {hint}" if hint else ""))

