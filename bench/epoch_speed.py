"""Seconds per epoch: lab's trainer vs a bare loop over preloaded tensors vs a torchvision DataLoader loop.

Same data (real MNIST, 60,000 training images), model (from lab's registry; the MLP is 784-128-10),
optimizer (Adam, lr 1e-3) and batch size in all three; lab and the bare loop train in --precision, the
DataLoader loop, the plain baseline, always in fp32. Only the training pass is timed. Each
round trains one epoch with each loop in turn, so the three share the machine's noise; the best of
--rounds is reported, with the test accuracy after one epoch.
    python bench/epoch_speed.py [--models mlp,convnet,cnn] [--precision fp32] [--rounds 2] [--device cpu]
"""

import argparse
import gzip
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab_workbench.engine.settings.config import config_from_text  # noqa: E402
from lab_workbench.engine.data import load_dataset  # noqa: E402
from lab_workbench.engine.models import create_model  # noqa: E402
from lab_workbench.engine.runtime.precision import autocast, resolve_precision  # noqa: E402
from lab_workbench.engine.training.trainer import train  # noqa: E402

BATCH = {"mlp": 64, "convnet": 128, "cnn": 128, "fastcnn": 128}
OPTIONS = {"mlp": {"hidden": [128]}}


def torchvision_root(mnist_dir: Path) -> Path:
    """torchvision's MNIST wants root/MNIST/raw with uncompressed files; build that in a temp folder."""
    root = Path(tempfile.mkdtemp(prefix="lab-bench-"))
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in mnist_dir.iterdir():
        if f.name.endswith(".gz"):
            with gzip.open(f) as src, open(raw / f.name[:-3], "wb") as dst:
                shutil.copyfileobj(src, dst)
    return root


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def accuracy(model, data, device) -> float:
    model.eval()
    with torch.inference_mode():
        x, y = data.test.x.to(device), data.test.y.to(device)
        pred = torch.cat([model(x[i:i + 2000]).argmax(1) for i in range(0, len(x), 2000)])
    model.train()
    return (pred == y).float().mean().item()


def timed_epoch(model, batches, precision: str, device) -> float:
    """Seconds of one pass over batches() -> iterable of (x, y)."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sync(device)
    t0 = time.perf_counter()
    for x, y in batches():
        with autocast(precision, device):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    sync(device)
    return time.perf_counter() - t0


def bare(name, data, precision, device) -> tuple[float, float]:
    torch.manual_seed(0)
    model = create_model(name, data.input_shape, data.num_classes, **OPTIONS.get(name, {})).to(device)
    x, y, bs = data.train.x, data.train.y, BATCH[name]

    def batches():
        perm = torch.randperm(len(x), device=device)
        return ((x[perm[i:i + bs]], y[perm[i:i + bs]]) for i in range(0, len(x), bs))
    return timed_epoch(model, batches, precision, device), accuracy(model, data, device)


def dataloader(name, data, root, precision, device) -> tuple[float, float]:
    from torchvision import datasets, transforms
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    loader = torch.utils.data.DataLoader(datasets.MNIST(str(root), train=True, transform=tf),
                                         batch_size=BATCH[name], shuffle=True)
    torch.manual_seed(0)
    model = create_model(name, data.input_shape, data.num_classes, **OPTIONS.get(name, {})).to(device)

    def batches():
        return ((x.to(device), y.to(device)) for x, y in loader)
    return timed_epoch(model, batches, "fp32", device), accuracy(model, data, device)


def lab(name, mnist, precision, device, runs) -> tuple[float, float]:
    cfg = config_from_text({"dataset": "mnist", "data_dir": str(mnist), "model": name, "optimizer": "adam",
                            "lr": "1e-3", "batch_size": str(BATCH[name]), "epochs": "1", "precision": precision,
                            "device": str(device), "runs_dir": runs, "val_split": "0", **OPTIONS.get(name, {})})
    h = train(cfg)
    return h.rows[0]["seconds"], h.test_acc


def best_of(rounds: int, *loops) -> list[tuple[float, float]]:
    """Run each loop once per round, in turn; (best seconds, accuracy of its last round) per loop."""
    results = [[] for _ in loops]
    for _ in range(rounds):
        for out, loop in zip(results, loops):
            out.append(loop())
    return [(min(t for t, _ in out), out[-1][1]) for out in results]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    p.add_argument("--models", default="mlp,convnet,cnn")
    p.add_argument("--precision", default="fp32", help="fp32, bf16, fp16 or auto (all three loops use it)")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--no-dataloader", action="store_true", help="skip the (slow) DataLoader loop")
    args = p.parse_args()
    device, mnist = torch.device(args.device), Path(args.data_dir)
    precision = resolve_precision(args.precision, device)
    data = load_dataset(config_from_text({"dataset": "mnist", "data_dir": str(mnist), "val_split": "0"}), device)
    root, runs = torchvision_root(mnist), tempfile.mkdtemp(prefix="lab-bench-runs-")
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, precision "
          f"{precision}, best of {args.rounds} rounds of one epoch, MNIST 60,000 train images, Adam lr 1e-3")
    print(f"{'model':8} {'batch':>5} {'lab s':>7} {'bare s':>7} {'DL s':>7} {'lab/bare':>8} {'DL/lab':>7} "
          f"{'acc lab':>7} {'bare':>6} {'DL':>6} {'img/s lab':>9} {'bare':>7}  (DL: fp32 DataLoader loop)")
    for name in args.models.split(","):
        loops = [lambda: lab(name, mnist, precision, device, runs), lambda: bare(name, data, precision, device)]
        if not args.no_dataloader:
            loops.append(lambda: dataloader(name, data, root, precision, device))
        (lt, la), (bt, ba), *dl = best_of(args.rounds, *loops)
        dt, da = dl[0] if dl else (float("nan"), float("nan"))
        n = len(data.train)
        print(f"{name:8} {BATCH[name]:5d} {lt:7.2f} {bt:7.2f} {dt:7.2f} {lt / bt:8.2f} {dt / lt:7.1f} "
              f"{la:7.4f} {ba:6.4f} {da:6.4f} {n / lt:9.0f} {n / bt:7.0f}", flush=True)
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(runs, ignore_errors=True)
    print("targets (2 CPU cores): lab/bare <= 1.15; MLP DL/lab >= 8; with --precision bf16, convnet DL/lab >= 1.8 "
          "at <= 0.3 points lower accuracy")


if __name__ == "__main__":
    main()
