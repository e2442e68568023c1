"""Predictions and metrics as data (the faces turn them into text)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

EVAL_BATCH = 2048


@torch.inference_mode()
def predict(model: torch.nn.Module, x: torch.Tensor, batch_size: int = EVAL_BATCH) -> torch.Tensor:
    """Logits for every row of x, in large batches, in eval mode (restored afterwards)."""
    was_training = model.training
    model.eval()
    try:
        return torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]) if len(x) else \
            torch.empty(0)
    finally:
        model.train(was_training)


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts with rows = true class, columns = predicted class."""
    return torch.bincount(y_true * num_classes + y_pred, minlength=num_classes ** 2).view(num_classes, num_classes)


def loss_acc_confusion(model, split, num_classes: int) -> tuple[float, float, list[list[int]]]:
    """Mean cross-entropy, accuracy and confusion matrix of a split (one device sync)."""
    if len(split) == 0:
        return float("nan"), float("nan"), []
    logits = predict(model, split.x)
    loss = F.cross_entropy(logits, split.y)
    cm = confusion_matrix(split.y, logits.argmax(1), num_classes)
    acc = cm.diagonal().sum() / len(split)
    stats = torch.stack([loss.double(), acc.double()]).tolist()
    return stats[0], stats[1], cm.tolist()
