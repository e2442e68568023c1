"""Review of predict: `lab predict RUN --top 99999999999999999999 bad.png`, with no readable input, ended in a
ValueError traceback (a (0, 10**20) array) after the one-line error about bad.png."""

import numpy as np
import torch

from lab_workbench.engine.artifacts.predict import top_k


def test_top_k_of_no_inputs_with_a_huge_k_is_empty():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
    idx, probs = top_k(model, np.zeros((0, 1, 2, 2), np.float32), 10**20)
    assert idx.size == 0 and probs.size == 0
    idx, probs = top_k(model, np.zeros((2, 1, 2, 2), np.float32), 10**20)  # as many as there are classes
    assert idx.shape == (2, 3) and probs.shape == (2, 3)
