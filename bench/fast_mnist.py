"""`lab train --recipe fast` against the plain-loop baseline of issue 13, side by side, 5 seeds each.

Baseline: Conv(1->16)-BN-GELU-MaxPool, Conv(16->32)-BN-GELU-MaxPool, Conv(32->64)-BN-GELU-MaxPool,
Linear(576->10); SGD+Nesterov 0.9, lr 0.2, wd 5e-4, one-cycle (25% warm-up), label smoothing 0.1, a random
shift of up to 2 pixels per batch, batch 128, one epoch, bf16 autocast only where the hardware has it.
Both train on the 60,000 MNIST training images preloaded as tensors; times are training only.
    python bench/fast_mnist.py [--seeds 5] [--device cpu|cuda] [--data-dir ../shared/data/mnist]
"""

import argparse
import math
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab_workbench.engine.settings.config import config_from_text  # noqa: E402
from lab_workbench.engine.data import load_dataset  # noqa: E402
from lab_workbench.engine.runtime.precision import autocast, resolve_precision  # noqa: E402
from lab_workbench.engine.training.trainer import train  # noqa: E402


def baseline_model() -> nn.Module:
    def block(i, o):
        return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.GELU(), nn.MaxPool2d(2)]
    return nn.Sequential(*block(1, 16), *block(16, 32), *block(32, 64), nn.Flatten(), nn.Linear(576, 10))


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def baseline(data, seed: int, device: torch.device) -> tuple[float, float]:
    """(training seconds, test accuracy) of the plain loop."""
    precision = "bf16" if resolve_precision("auto", device) == "bf16" else "fp32"
    x, y = data.train.x, data.train.y
    torch.manual_seed(seed)
    model = baseline_model().to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps = math.ceil(len(x) / 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 0.2, total_steps=steps, pct_start=0.25)
    gen = torch.Generator().manual_seed(seed)
    sync(device)
    t0 = time.perf_counter()
    perm = torch.randperm(len(x), generator=gen).to(device)
    for i in range(0, len(x), 128):
        idx = perm[i:i + 128]
        dy, dx = torch.randint(-2, 3, (2,), generator=gen).tolist()
        xb = torch.roll(x[idx], (dy, dx), (2, 3))
        with autocast(precision, device):
            loss = F.cross_entropy(model(xb), y[idx], label_smoothing=0.1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    sync(device)
    seconds = time.perf_counter() - t0
    model.eval()
    with torch.inference_mode():
        pred = torch.cat([model(data.test.x[i:i + 2000]).argmax(1) for i in range(0, len(data.test), 2000)])
    return seconds, (pred == data.test.y).float().mean().item()


def lab(data_dir: str, seed: int, device: str, runs: str) -> tuple[float, float]:
    cfg = config_from_text({"recipe": "fast", "dataset": "mnist", "data_dir": data_dir, "seed": str(seed),
                            "device": device, "runs_dir": runs})
    h = train(cfg)
    return sum(r["seconds"] for r in h.rows), h.test_acc


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    device = torch.device(args.device)
    data = load_dataset(config_from_text({"dataset": "mnist", "data_dir": args.data_dir, "val_split": "0"}), device)
    runs = tempfile.mkdtemp(prefix="lab-bench-fast-")
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, "
          f"precision {resolve_precision('auto', device)}, {args.seeds} seeds, MNIST 60,000 train / 10,000 test")
    lab(args.data_dir, 99, args.device, runs)  # warm-up: first-call costs (oneDNN primitives) off the clock
    baseline(data, 99, device)
    b_times, b_accs, l_times, l_accs = [], [], [], []
    for seed in range(args.seeds):
        t, a = baseline(data, seed, device)
        b_times.append(t)
        b_accs.append(a)
        t, a = lab(args.data_dir, seed, args.device, runs)
        l_times.append(t)
        l_accs.append(a)
        print(f"seed {seed}: baseline {b_times[-1]:6.2f} s {b_accs[-1]:.4f} | lab --recipe fast "
              f"{l_times[-1]:6.2f} s {l_accs[-1]:.4f}", flush=True)
    shutil.rmtree(runs, ignore_errors=True)
    bt, lt = statistics.median(b_times), statistics.median(l_times)
    print(f"baseline          median {bt:6.2f} s  worst accuracy {min(b_accs):.4f}")
    print(f"lab --recipe fast median {lt:6.2f} s  worst accuracy {min(l_accs):.4f}")
    print(f"ratio lab/baseline {lt / bt:.2f} (target: <= 0.65 at >= 0.990)")


if __name__ == "__main__":
    main()
