"""Seconds per epoch: lab's trainer vs a plain torchvision DataLoader loop, side by side in one run.

Same data (real MNIST), model (MLP 784-128-10), optimizer (Adam, lr 1e-3) and batch size (64).
    python bench/epoch_speed.py [--data-dir ../shared/data/mnist] [--epochs 2] [--device cpu]
"""

import argparse
import gzip
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn as nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import TrainConfig, train  # noqa: E402


def torchvision_root(mnist_dir: Path) -> Path:
    """torchvision's MNIST wants root/MNIST/raw with uncompressed files; build that in a temp folder."""
    root = Path(tempfile.mkdtemp(prefix="lab-bench-"))
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in mnist_dir.iterdir():
        if f.name.endswith(".gz"):
            with gzip.open(f) as src, open(raw / f.name[:-3], "wb") as dst:
                shutil.copyfileobj(src, dst)
        elif "ubyte" in f.name:
            shutil.copy(f, raw / f.name)
    return root


def dataloader_epoch_seconds(mnist_dir: Path, epochs: int, device: str) -> float:
    from torchvision import datasets, transforms
    root = torchvision_root(mnist_dir)
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    ds = datasets.MNIST(str(root), train=True, download=False, transform=tf)
    loader = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    shutil.rmtree(root, ignore_errors=True)
    return min(times)


def lab_epoch_seconds(mnist_dir: Path, epochs: int, device: str) -> float:
    runs = tempfile.mkdtemp(prefix="lab-bench-runs-")
    cfg = TrainConfig(dataset="mnist", data_dir=str(mnist_dir), model="mlp", hidden=[128], optimizer="adam",
                      lr=1e-3, batch_size=64, epochs=epochs, device=device, runs_dir=runs, val_split=0.0)
    history = train(cfg)
    shutil.rmtree(runs, ignore_errors=True)
    # an epoch's seconds include lab's per-epoch evaluation of the monitor split; the loop above has none
    return min(r["seconds"] for r in history.rows)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    mnist = Path(args.data_dir)
    if (mnist / "MNIST" / "raw").is_dir():
        mnist = mnist / "MNIST" / "raw"
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, "
          f"best of {args.epochs} epochs, MNIST train 60,000 images, MLP 784-128-10, Adam, batch 64")
    lab = lab_epoch_seconds(mnist, args.epochs, args.device)
    print(f"lab trainer        {lab:7.2f} s/epoch")
    dl = dataloader_epoch_seconds(mnist, args.epochs, args.device)
    print(f"DataLoader loop    {dl:7.2f} s/epoch")
    print(f"ratio              {dl / lab:7.1f}x faster (target: >= 6x on CPU)")


if __name__ == "__main__":
    main()
