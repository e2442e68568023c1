"""Data-parallel training under torchrun: a no-op wrapper when WORLD_SIZE is 1 (the usual case)."""

from __future__ import annotations

import os
import re

import torch
import torch.distributed as torch_dist

from lab_workbench.engine.core.errors import ConfigError, LabError

STOP_CODES = {None: 0, "cancelled": 1, "pruned": 2, "interrupted": 3}  # the ranks agree on the highest
JOIN_SECONDS = 60.0  # how long the ranks wait for each other at the start (torch's own default: 30 minutes)
# what gloo and NCCL say when another process of the group is gone (killed, its node lost)
PEER_GONE = ("Connection reset by peer", "Connection closed by peer", "Broken pipe", "communicator was aborted",
             "remote process exited")


class PeerLost(LabError):
    """Another process of a multi-process run ended mid-run: an expected failure (torchrun restarts the group),
    told in one line rather than a traceback."""


def peer_lost(error: BaseException, rank: int) -> PeerLost | None:
    """The PeerLost that a collective's error means, else None (a bug stays a traceback)."""
    text = str(error)
    gone = next((g for g in PEER_GONE if g.lower() in text.lower()), None)
    if not isinstance(error, RuntimeError) or gone is None:
        return None
    return PeerLost(f"rank {rank}: another process of this run has ended ({gone}); the last checkpoint is kept: "
                    f"torchrun --max-restarts restarts the group, or --resume continues the run")


def slurm_hosts(nodelist: str) -> list[str]:
    """Expand a Slurm node list ('node[01-03,7],gpu5') into host names, as `scontrol show hostnames` does."""
    hosts = []
    for part in re.findall(r"[^,\[]+(?:\[[^\]]*\])?[^,]*", nodelist):
        m = re.fullmatch(r"([^\[]*)\[([^\]]*)\](.*)", part)
        if not m:
            hosts.append(part)
            continue
        prefix, ranges, suffix = m.groups()
        for r in ranges.split(","):
            lo, _, hi = r.partition("-")
            for i in range(int(lo), int(hi or lo) + 1):
                hosts.append(f"{prefix}{str(i).zfill(len(lo))}{suffix}")
    return hosts


def env_int(name: str, default: int, env=os.environ, low: int = 0) -> int:
    """An integer environment variable; anything else is a ConfigError naming it (not a traceback)."""
    text = env.get(name, "").strip() or str(default)
    if not text.isdigit() or int(text) < low:
        raise ConfigError(f"{name}: expected an integer >= {low} in the environment, got {env.get(name)!r}")
    return int(text)


def env_from_slurm(env=os.environ) -> dict:
    """torch.distributed's variables from srun's, when srun started several tasks and torchrun did not."""
    if "WORLD_SIZE" in env or "SLURM_PROCID" not in env or env_int("SLURM_NTASKS", 1, env, 1) <= 1:
        return {}
    world, rank = env_int("SLURM_NTASKS", 1, env, 1), env_int("SLURM_PROCID", 0, env)
    if rank >= world:
        raise ConfigError(f"SLURM_PROCID: expected a rank below SLURM_NTASKS={world}, got {rank}")
    nodes = slurm_hosts(env.get("SLURM_STEP_NODELIST") or env.get("SLURM_JOB_NODELIST") or "localhost")
    job = env_int("SLURM_JOB_ID", 0, env)
    return {"WORLD_SIZE": str(world), "RANK": str(rank), "LOCAL_RANK": str(env_int("SLURM_LOCALID", 0, env)),
            "MASTER_ADDR": env.get("MASTER_ADDR", nodes[0] if nodes else "localhost"),
            "MASTER_PORT": env.get("MASTER_PORT", str(20000 + job % 20000))}


def join(backend: str, rank: int, world: int) -> None:
    """init_process_group, with the ranks' meeting bounded by JOIN_SECONDS: variables left over from another
    job (WORLD_SIZE=2 RANK=1 with no torchrun, SLURM_NTASKS=2 outside srun) are one error, not a silent wait
    for ranks that never come. Collectives keep torch's own timeout (rank 0 may evaluate while others wait)."""
    from datetime import timedelta

    from torch.distributed.constants import default_pg_timeout
    what = f"WORLD_SIZE={world} RANK={rank}" + (" (from SLURM_NTASKS and SLURM_PROCID)" if "SLURM_PROCID" in
                                                 os.environ and "TORCHELASTIC_RUN_ID" not in os.environ else "")
    hint = "if these variables are left over from another job, unset them; start the ranks with torchrun or srun"
    missing = [k for k in ("MASTER_ADDR", "MASTER_PORT") if not os.environ.get(k)]
    if missing:
        raise ConfigError(f"{what}: {' and '.join(missing)} not set, so no rank can find the others; {hint}")
    env_int("MASTER_PORT", 0)
    where = f"{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}"
    try:
        store, _, _ = next(torch_dist.rendezvous("env://", rank, world, timeout=timedelta(seconds=JOIN_SECONDS)))
    except Exception as e:  # a timeout, a refused connection, a port in use: each its own type
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        raise ConfigError(f"{what}: the other ranks did not meet at {where} within {JOIN_SECONDS:g} s ({first}); "
                          f"{hint}") from None
    store.set_timeout(default_pg_timeout)
    torch_dist.init_process_group(backend, store=store, rank=rank, world_size=world)


def per_process_batch(global_batch: int, world: int) -> int:
    """Each process's share of the run's global batch; a count that does not divide it is a ConfigError."""
    if global_batch % world:
        raise ConfigError(f"--batch-size {global_batch}: the global batch must split evenly among the {world} "
                          f"processes; use a multiple of {world} (e.g. {max(world, global_batch // world * world)})")
    return global_batch // world


def processes_note(world: int, global_batch: int, before: int | None = None) -> str:
    """The first line's word on the processes: '2 processes x batch 32 (global 64)', and a change on resume."""
    text = f"{world} process{'es' if world > 1 else ''} x batch {global_batch // world} (global {global_batch})"
    return text + (f", the run trained on {before} until now" if before and before != world else "")


def restart_store(world: int, env=os.environ):
    """The store of a torchrun group that restarted, with keys of this try only, else None (the default).

    torchrun keeps one store across its restarts (TORCHELASTIC_USE_AGENT_STORE) and adds no prefix per
    try: the new group could read the addresses of the dead one and wait on them (seen: gloo hanging in
    connectFullMesh, or refusing the connection, about one restart in four)."""
    attempt = env_int("TORCHELASTIC_RESTART_COUNT", 0, env)
    if not attempt or env.get("TORCHELASTIC_USE_AGENT_STORE") != "True":
        return None
    from datetime import timedelta
    store = torch_dist.TCPStore(env["MASTER_ADDR"], env_int("MASTER_PORT", 0, env), world, is_master=False,
                                timeout=timedelta(minutes=30))
    return torch_dist.PrefixStore(f"lab/try_{attempt}", store)


class Distributed:
    """Rank facts and the few collectives the trainer needs; every method works with one process too.

    Ranks come from torchrun (WORLD_SIZE, RANK, LOCAL_RANK) or from srun (SLURM_NTASKS, SLURM_PROCID,
    SLURM_LOCALID, the master address from the node list)."""

    def __init__(self, device: torch.device):
        os.environ.update(env_from_slurm())
        self.world = env_int("WORLD_SIZE", 1, low=1)
        self.rank = env_int("RANK", 0)
        self.local_rank = env_int("LOCAL_RANK", 0)
        if self.rank >= self.world:
            raise ConfigError(f"RANK: expected a rank below WORLD_SIZE={self.world}, got {self.rank}")
        self.device = device
        self.active = self.world > 1
        if self.active:
            if device.type == "cuda":
                self.device = torch.device("cuda", self.local_rank)
                torch.cuda.set_device(self.device)
            if not torch_dist.is_initialized():
                backend = "nccl" if self.device.type == "cuda" else "gloo"
                store = restart_store(self.world)
                if store is not None:  # torchrun restarted the group: it meets in keys of this try only
                    torch_dist.init_process_group(backend, store=store, rank=self.rank, world_size=self.world)
                else:
                    join(backend, self.rank, self.world)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """DistributedDataParallel around the model (the model itself stays the one to save)."""
        if not self.active:
            return model
        ids = [self.device.index] if self.device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def shard(self, perm: torch.Tensor, contiguous: bool = False) -> torch.Tensor:
        """This rank's equal share of a permutation (the remainder is dropped so every rank takes as many steps).

        contiguous=True gives each rank one stretch of the order: a streamed epoch's order runs window by
        window through the file, so each rank then reads only its own blocks."""
        if not self.active:
            return perm
        per_rank = len(perm) // self.world
        if contiguous:
            return perm[self.rank * per_rank:(self.rank + 1) * per_rank]
        return perm[self.rank::self.world][:per_rank]

    def sum(self, *tensors: torch.Tensor) -> list[torch.Tensor]:
        if self.active:
            for t in tensors:
                torch_dist.all_reduce(t)
        return list(tensors)

    def stop(self, value):
        """A stop requested on any rank stops every rank at the same step (else the others would hang)."""
        if not self.active:
            return value
        code = torch.tensor([STOP_CODES.get(value, 1) if value else 0], device=self.device)
        torch_dist.all_reduce(code, op=torch_dist.ReduceOp.MAX)
        return {v: k for k, v in STOP_CODES.items()}[int(code.item())]

    def gather(self, value) -> list:
        """Every rank's value, in rank order (each rank's RNG state, for an exact multi-process resume)."""
        if not self.active:
            return [value]
        out = [None] * self.world
        torch_dist.all_gather_object(out, value)
        return out

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on any."""
        if not self.active:
            return flag
        t = torch.tensor([int(flag)], device=self.device)
        torch_dist.all_reduce(t, op=torch_dist.ReduceOp.MAX)
        return bool(t.item())

    def broadcast(self, value: str | None) -> str | None:
        if not self.active:
            return value
        box = [value]
        torch_dist.broadcast_object_list(box, src=0)
        return box[0]

    def close(self) -> None:
        """Leave together: a rank that tears the group down while rank 0 still evaluates and writes makes
        gloo abort the process ("terminate called without an active exception")."""
        if self.active and torch_dist.is_initialized():
            try:
                torch_dist.barrier()
            except RuntimeError as e:  # a process gone: the error that brought us here is the one to tell
                if peer_lost(e, self.rank) is None:
                    raise
            finally:
                torch_dist.destroy_process_group()
