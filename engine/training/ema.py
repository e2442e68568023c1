"""An exponential moving average of a model's weights (and a copy of its buffers), updated every step."""

from __future__ import annotations

import copy

import torch


class EMA:
    """Shadow weights w_ema <- d * w_ema + (1 - d) * w, with d ramping up as min(decay, (1+n)/(10+n))
    so that the first steps are not averaged with the random initialisation."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay, self.updates = decay, 0
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        pairs = list(zip(self.model.state_dict().values(), model.state_dict().values()))
        self._floats = [(e, m) for e, m in pairs if e.is_floating_point()]
        self._others = [(e, m) for e, m in pairs if not e.is_floating_point()]  # e.g. BN's batch counts

    @torch.no_grad()
    def update(self) -> None:
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        if self._floats:
            torch._foreach_lerp_([e for e, _ in self._floats], [m for _, m in self._floats], 1.0 - d)
        for e, m in self._others:
            e.copy_(m)

    def state_dict(self) -> dict:
        return self.model.state_dict()

    def load_state_dict(self, state: dict, updates: int) -> None:
        self.model.load_state_dict(state)
        self.updates = int(updates)
