"""One training step for the loop and lr-find (issue 21): lr-find at fp16 scales its loss like training does."""

import torch

from lab_workbench.engine.settings.config import TrainConfig


def test_lr_find_at_fp16_scales_its_loss_through_the_grad_scaler(monkeypatch):
    from lab_workbench.engine.training.lr_find import lr_find
    scaled = []
    scale = torch.amp.GradScaler.scale

    def spy(self, outputs):
        out = scale(self, outputs)
        scaled.append(self.is_enabled() and not torch.equal(out.detach(), outputs.detach().float()))
        return out
    monkeypatch.setattr(torch.amp.GradScaler, "scale", spy)
    cfg = TrainConfig(model="logistic", optimizer="sgd", momentum=0.0, batch_size=64, precision="fp16",
                      device="cpu", subset=256)
    r = lr_find(cfg, start=1e-4, end=1.0, steps=12)
    assert len(scaled) == len(r.lrs) >= 5 and all(scaled)  # every step's loss was multiplied by the scale
