"""How many bytes of data a run may hold resident: --data-memory, or a share of what this process may use.

No torch import at module level: the config checks sizes while `lab train --help` stays instant.
"""

from __future__ import annotations

import os
import re

from lab_workbench.engine.runtime.memory import meminfo_available, read_int

AUTO_FRACTION = 0.5  # of the memory the process may use: the model, optimizer and batches need the rest
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_bytes(text) -> int | None:
    """Bytes of a size such as '2G', '500M', '1.5GB', '1000000'; None for 'auto'. ValueError when malformed."""
    if text is None or str(text).strip().lower() == "auto":
        return None
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)(?:I?B)?\s*", str(text).upper())
    if not m:
        raise ValueError(f"not a size: {text!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def _slurm_bytes() -> int | None:
    # Slurm gives megabytes: per node, or per CPU times the CPUs of the task
    per_node = os.environ.get("SLURM_MEM_PER_NODE", "")
    if per_node.isdigit():
        return int(per_node) << 20
    per_cpu, cpus = os.environ.get("SLURM_MEM_PER_CPU", ""), os.environ.get("SLURM_CPUS_PER_TASK", "1")
    if per_cpu.isdigit() and cpus.isdigit():
        return (int(per_cpu) * int(cpus)) << 20
    return None


def _available_ram() -> int | None:
    ram = meminfo_available()
    if ram is not None:
        return ram
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def process_memory() -> int | None:
    """The bytes this process may use: min(available RAM, cgroup limit, Slurm allocation)."""
    limits = [_available_ram(), _slurm_bytes(), read_int("/sys/fs/cgroup/memory.max"),
              read_int("/sys/fs/cgroup/memory/memory.limit_in_bytes")]
    limits = [v for v in limits if v and v < 1 << 60]  # cgroup v1 says "no limit" with a huge number
    return min(limits) if limits else None


def local_ranks() -> int:
    """Processes of this run on this node (torchrun, srun): they share the node's memory."""
    for key in ("LOCAL_WORLD_SIZE", "SLURM_NTASKS_PER_NODE"):
        value = os.environ.get(key, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


def data_budget(setting: str | None, device=None) -> int | None:
    """Bytes of data one process may hold resident; None when unknown (then everything is resident)."""
    explicit = parse_bytes(setting)
    if explicit is not None:
        return explicit
    if device is not None and getattr(device, "type", "") == "cuda":
        import torch
        free, _ = torch.cuda.mem_get_info(device)
        return int(free * AUTO_FRACTION)
    total = process_memory()
    return None if total is None else int(total * AUTO_FRACTION / local_ranks())


def storage_facts(path, images_key: str = "images", setting: str | None = "auto",
                  allow_external: bool = False) -> dict:
    """An HDF5 file's size on disk, its images' resident size, the budget and whether training streams it."""
    from lab_workbench.engine.data.stream import hdf5_bytes
    resident = hdf5_bytes(path, images_key, allow_external)
    budget = data_budget(setting)
    return {"file_bytes": os.path.getsize(path), "resident_bytes": resident, "budget_bytes": budget,
            "streams": budget is not None and resident > budget}
