"""How many CPU threads to compute with: the cores this process may use, not the cores the machine has.

torch defaults to every physical core; in a Slurm job, a cgroup-limited container or a pinned process
that oversubscribes the CPUs and its OpenMP threads spin against each other (10-25x slower epochs).
"""

from __future__ import annotations

import math
import os


def _cgroup_quota() -> int | None:
    try:  # cgroup v2: "max 100000" or "<quota> <period>"
        quota, period = open("/sys/fs/cgroup/cpu.max", encoding="ascii").read().split()[:2]
        if quota != "max":
            return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    try:  # cgroup v1
        quota = int(open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", encoding="ascii").read())
        period = int(open("/sys/fs/cgroup/cpu/cpu.cfs_period_us", encoding="ascii").read())
        if quota > 0 and period > 0:
            return max(1, math.ceil(quota / period))
    except (OSError, ValueError):
        pass
    return None


def available_cpus() -> int:
    """min(CPU affinity, cgroup quota, $SLURM_CPUS_PER_TASK), at least 1."""
    counts = [os.cpu_count() or 1]
    if hasattr(os, "sched_getaffinity"):
        counts.append(len(os.sched_getaffinity(0)))
    quota = _cgroup_quota()
    if quota:
        counts.append(quota)
    slurm = os.environ.get("SLURM_CPUS_PER_TASK", "")
    if slurm.isdigit() and int(slurm) > 0:
        counts.append(int(slurm))
    return max(1, min(counts))


def default_threads() -> int:
    """$OMP_NUM_THREADS when set, else the available CPUs shared among the processes of this node."""
    omp = os.environ.get("OMP_NUM_THREADS", "")
    if omp.isdigit() and int(omp) > 0:
        return int(omp)
    local = os.environ.get("LOCAL_WORLD_SIZE") or os.environ.get("SLURM_NTASKS_PER_NODE") or "1"
    return max(1, available_cpus() // (int(local) if local.isdigit() and int(local) > 0 else 1))


def configure_threads(requested: int | None) -> int:
    """Set torch's intra-op threads to `requested` or default_threads(); returns the number set."""
    import torch
    n = requested or default_threads()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n
