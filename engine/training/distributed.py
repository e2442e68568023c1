"""Data-parallel training under torchrun: a no-op wrapper when WORLD_SIZE is 1 (the usual case)."""

from __future__ import annotations

import os

import torch
import torch.distributed as torch_dist

STOP_CODES = {None: 0, "cancelled": 1, "interrupted": 2}


class Distributed:
    """Rank facts and the few collectives the trainer needs; every method works with one process too."""

    def __init__(self, device: torch.device):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.device = device
        self.active = self.world > 1
        if self.active:
            if device.type == "cuda":
                self.device = torch.device("cuda", self.local_rank)
                torch.cuda.set_device(self.device)
            if not torch_dist.is_initialized():
                torch_dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """DistributedDataParallel around the model (the model itself stays the one to save)."""
        if not self.active:
            return model
        ids = [self.device.index] if self.device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def shard(self, perm: torch.Tensor) -> torch.Tensor:
        """This rank's equal share of a permutation (the remainder is dropped so every rank takes as many steps)."""
        if not self.active:
            return perm
        per_rank = len(perm) // self.world
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

    def broadcast(self, value: str | None) -> str | None:
        if not self.active:
            return value
        box = [value]
        torch_dist.broadcast_object_list(box, src=0)
        return box[0]

    def close(self) -> None:
        if self.active and torch_dist.is_initialized():
            torch_dist.destroy_process_group()
