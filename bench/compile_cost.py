"""Does torch.compile pay back its compile time on a short CPU run? One model's steps, eager against compiled.

    python bench/compile_cost.py [--model fastcnn] [--steps 200] [--precision bf16]
Prints the compile time (the first compiled step) and the per-step times; lab trains eagerly while the
compile time is more than the time it would save over a typical run.
"""

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab_workbench.engine.models import create_model  # noqa: E402
from lab_workbench.engine.runtime.precision import autocast  # noqa: E402


def steps(model, n: int, precision: str) -> tuple[float, float]:
    """(seconds of the first step, mean seconds of the next n)."""
    device = torch.device("cpu")
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, fused=True)
    x = torch.randn(128, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (128,))

    def step():
        with autocast(precision, device):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    t0 = time.perf_counter()
    step()
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return first, (time.perf_counter() - t0) / n


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", default="fastcnn")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--precision", default="bf16")
    args = p.parse_args()

    def make():
        torch.manual_seed(0)
        return create_model(args.model, (1, 28, 28), 10).to(memory_format=torch.channels_last)
    _, eager = steps(make(), args.steps, args.precision)
    first, compiled = steps(torch.compile(make()), args.steps, args.precision)
    saved = eager - compiled
    print(f"{args.model} {args.precision} batch 128: eager {1000 * eager:.2f} ms/step, compiled "
          f"{1000 * compiled:.2f} ms/step, compile {first:.1f} s")
    if saved > 0:
        print(f"pays back after {first / saved:,.0f} steps ({first / saved / 469:.1f} MNIST epochs at batch 128)")
    else:
        print("never pays back: the compiled step is not faster")


if __name__ == "__main__":
    main()
