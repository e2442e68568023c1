"""Put a trained model to work: the top-k classes of inputs that engine.data.inputs has read and
preprocessed exactly as the run's training data was."""

from __future__ import annotations

import numpy as np

BATCH = 4096


def top_k(model, x: np.ndarray, k: int, device="cpu") -> tuple[np.ndarray, np.ndarray]:
    """(indices, probabilities) of the k most probable classes per row, in batches, in fp32."""
    import torch
    from lab_workbench.engine.evaluation.metrics import predict
    if len(x) == 0:  # no rows, and no columns: k may be any size (--top 10**20), the classes are unknown here
        return np.zeros((0, 0), np.int64), np.zeros((0, 0), np.float32)
    logits = predict(model, torch.from_numpy(x).to(device), BATCH).float()
    probs = torch.softmax(logits, 1)
    p, i = probs.topk(min(k, probs.shape[1]), dim=1)
    return i.cpu().numpy(), p.cpu().numpy()
