"""Data at scale: synthetic HDF5 files of N random 3x32x32 uint8 images (written as `lab convert` writes
them: ~1 MB row chunks, lzf), and for each N, every figure measured in a fresh process:

  peak RSS in memory and streamed (and above the fixed cost of a whole run on 1,000 images, per stored byte),
  load seconds (load_dataset to the first batch) against h5py's raw read of the same arrays,
  epoch seconds streamed against in memory, for the MLP and the default CNN.

    python bench/data_scale.py                        # 100k, 300k, 1M (needs ~5 GB of disk, long on 2 cores)
    python bench/data_scale.py --sizes 20000 --models mlp --device cpu   # a quick check that it runs

Targets (issue 22, 2 cores): in-memory RSS <= 1.3x stored bytes + fixed cost; streamed peak RSS <= 2 GB for
1M images; load <= 2x the raw read; a streamed epoch <= 1.25x an in-memory epoch with a warm page cache.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STREAM_MEMORY = "256M"  # the --data-memory of the streamed runs: far below every file here


def write_file(path: Path, n: int, classes: int = 10) -> int:
    """A synthetic data set like `lab convert` writes; returns the stored image bytes."""
    import h5py
    import numpy as np
    from lab_workbench.engine.data.h5file import CHUNK_BYTES
    rng = np.random.default_rng(0)
    rows = CHUNK_BYTES // 3072
    with h5py.File(path, "w") as f:
        images = f.create_dataset("images", (n, 32, 32, 3), np.uint8, chunks=(rows, 32, 32, 3), compression="lzf",
                                  shuffle=True)
        for s in range(0, n, 50_000):
            images[s:s + 50_000] = rng.integers(0, 256, (min(50_000, n - s), 32, 32, 3), dtype=np.uint8)
        f.create_dataset("labels", data=rng.integers(0, classes, n).astype(np.int64))
    return n * 3072


def child(job: dict) -> dict:
    """One measurement in this (fresh) process; peak RSS is this process's high-water mark."""
    import torch
    out = {}
    if job["kind"] == "raw":
        import h5py
        t0 = time.perf_counter()
        with h5py.File(job["path"], "r") as f:
            f["images"][()], f["labels"][()]
        out["seconds"] = time.perf_counter() - t0
    else:
        from lab_workbench.engine import TrainConfig, train
        from lab_workbench.engine.data import load_dataset
        cfg = TrainConfig(data=job["path"], model=job["model"], epochs=1, val_split=0.0, device=job["device"],
                          data_memory=job["memory"], stream=job["kind"] == "stream", runs_dir=job["runs"])
        device = torch.device(job["device"])
        t0 = time.perf_counter()
        data = load_dataset(cfg, device)
        out["load"] = time.perf_counter() - t0
        if job.get("epoch"):
            out["epoch"] = train(cfg, dataset=data).rows[0]["seconds"]
    out["rss"] = peak_rss()
    if job["device"].startswith("cuda"):
        import torch
        out["gpu_peak"] = torch.cuda.max_memory_allocated()
    return out


def peak_rss() -> int:
    """This process's peak RSS in bytes: VmHWM, since ru_maxrss keeps the forking parent's peak across exec."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(job: dict) -> dict:
    r = subprocess.run([sys.executable, __file__, "--child", json.dumps(job)], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    if r.returncode != 0:
        raise SystemExit(f"{job['kind']} {job.get('model', '')} failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def row(n: int, stored: int, path: str, small: str, models: list[str], device: str, runs: str) -> list[str]:
    base = dict(path=path, device=device, runs=runs, memory="auto")
    raw = measure({**base, "kind": "raw"})["seconds"]
    lines = []
    for model in models:
        # the fixed cost is that of a whole run (torch, the model, the optimizer, torch._dynamo, evaluation,
        # the run folder) on 1,000 images: what every run pays whatever its data, so the rest grows with the data
        fixed = measure({**base, "path": small, "kind": "memory", "model": model, "epoch": True})["rss"]
        mem = measure({**base, "kind": "memory", "model": model, "epoch": True})
        st = measure({**base, "kind": "stream", "model": model, "epoch": True, "memory": STREAM_MEMORY})
        gb = 1e9
        lines.append(f"{n:>9,} {stored / gb:6.2f} {model:>6} | {mem['rss'] / gb:6.2f} "
                     f"{(mem['rss'] - fixed) / stored:5.2f}x {st['rss'] / gb:6.2f} | {mem['load']:6.2f} {raw:6.2f} "
                     f"{mem['load'] / raw:5.2f}x | {mem['epoch']:7.2f} {st['epoch']:7.2f} {st['epoch'] / mem['epoch']:5.2f}x")
    return lines


HEADER = ("   images     GB  model | RSS GB (-fixed)/stored stream GB | load s  raw s  ratio | "
          "epoch s stream s ratio")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100000,300000,1000000", help="comma-separated image counts")
    p.add_argument("--models", default="mlp,cnn", help="comma-separated models")
    p.add_argument("--device", default="cpu", help="cpu, cuda (uint8 resident on the GPU, pinned streaming)")
    p.add_argument("--dir", default=None, help="where to write the files (default: a temp folder)")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    import torch
    card = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"{os.cpu_count()} CPU cores"
    print(f"data_scale on {card}, torch {torch.__version__}; streamed with --data-memory {STREAM_MEMORY}")
    print(HEADER)
    if args.dir:
        Path(args.dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        small = Path(tmp) / "synthetic-1000.h5"
        write_file(small, 1000)
        for n in (int(v) for v in args.sizes.split(",")):
            path = Path(tmp) / f"synthetic-{n}.h5"
            stored = write_file(path, n)
            for line in row(n, stored, str(path), str(small), args.models.split(","), args.device,
                            str(Path(tmp) / "runs")):
                print(line, flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
