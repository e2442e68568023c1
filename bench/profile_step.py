"""Where a training step's time goes: torch.profiler's table of the top operators for one model.

    python bench/profile_step.py [--model cnn] [--precision fp32|bf16] [--batch 128] [--nchw]
Runs 20 warm-up steps and profiles 30 on random 1x28x28 inputs, in lab's layout (channels_last for conv
nets, unless --nchw) with a fused Adam, as lab's loop does.
"""

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab_workbench.engine.models import create_model  # noqa: E402
from lab_workbench.engine.runtime.precision import autocast  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", default="cnn")
    p.add_argument("--precision", default="fp32")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--nchw", action="store_true", help="keep the default NCHW layout")
    p.add_argument("--rows", type=int, default=12)
    args = p.parse_args()
    device = torch.device("cpu")
    model = create_model(args.model, (1, 28, 28), 10)
    cl = not args.nchw and any(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    if cl:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), 1e-3, fused=True)
    x, y = torch.randn(args.batch, 1, 28, 28), torch.randint(0, 10, (args.batch,))
    if cl:
        x = x.contiguous(memory_format=torch.channels_last)

    def step():
        with autocast(args.precision, device):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    for _ in range(20):
        step()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(30):
            step()
    print(f"{args.model}, {args.precision}, batch {args.batch}, {'channels_last' if cl else 'NCHW'}, "
          f"{torch.get_num_threads()} threads, 30 steps")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))


if __name__ == "__main__":
    main()
