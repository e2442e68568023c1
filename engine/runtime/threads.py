"""How many CPU threads to compute with: the cores this process may use, not the cores the machine has.

torch defaults to every physical core; in a Slurm job, a cgroup-limited container or a pinned process
that oversubscribes the CPUs and its OpenMP threads spin against each other (10-25x slower epochs).
"""

from __future__ import annotations

import math
import os
import time


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


LOCAL_PROCESSES = "LAB_LOCAL_PROCESSES"  # set by `lab sweep -j N` for its points: N processes share the CPUs


def default_threads() -> int:
    """$OMP_NUM_THREADS when set, else the available CPUs shared among the processes of this node (a run's
    ranks, or a sweep's points), less the CPUs other processes keep busy right now."""
    omp = os.environ.get("OMP_NUM_THREADS", "")
    if omp.isdigit() and int(omp) > 0:
        return int(omp)
    local = (os.environ.get("LOCAL_WORLD_SIZE") or os.environ.get("SLURM_NTASKS_PER_NODE")
             or os.environ.get(LOCAL_PROCESSES) or "1")
    n = max(1, available_cpus() // (int(local) if local.isdigit() and int(local) > 0 else 1))
    free = idle_cpus() if n > 1 else None
    return n if free is None else max(1, min(n, free))


def _cpu_jiffies() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs of the machine since boot, from /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


_SAMPLED: tuple[float, int | None] = (-1e9, None)  # (when, result): one sample a minute per process


def idle_cpus(window: float = 0.1, max_age: float = 60.0) -> int | None:
    """How many of the machine's CPUs other processes left idle over a short window (None off Linux).

    An OpenMP team larger than the idle CPUs waits at every barrier for a thread that is not running: with
    one busy process on 2 cores, 2 threads ran an MLP epoch 2.4x slower than 1 (bench/busy_machine.py).
    A sweep's points and repeated calls reuse a sample for `max_age` seconds."""
    global _SAMPLED
    if time.monotonic() - _SAMPLED[0] < max_age:
        return _SAMPLED[1]
    _SAMPLED = (time.monotonic(), _sample(window))
    return _SAMPLED[1]


def _sample(window: float) -> int | None:
    before, own0 = _cpu_jiffies(), os.times()
    if before is None:
        return None
    time.sleep(window)
    after, own1 = _cpu_jiffies(), os.times()
    if after is None or after[1] <= before[1]:
        return None
    cpus = os.cpu_count() or 1
    per_cpu = (after[1] - before[1]) / cpus  # jiffies one CPU has in the window
    own = (own1.user + own1.system - own0.user - own0.system) * os.sysconf("SC_CLK_TCK")
    others_busy = max(0.0, (after[0] - before[0] - own) / per_cpu)
    return max(1, int(cpus - others_busy + 0.5))


def configure_threads(requested: int | None) -> int:
    """Set torch's intra-op threads to `requested` or default_threads(); returns the number set."""
    import torch
    n = requested or default_threads()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n
