"""A 2x2 sweep on digits with --jobs 2 against the same four runs one after another (--jobs 1).

Target (issue: experiments): time(--jobs 2) <= 1.2 x time(--jobs 1) / 2 on 2 cores. Both are measured in one
run of this script, side by side; the machine should be otherwise idle.
Usage: python bench/sweep_speed.py [--epochs 30]
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sweep(folder: Path, jobs: int, epochs: int) -> float:
    cmd = [sys.executable, "-m", "lab_workbench.commands", "sweep", f"j{jobs}", "--grid", "l2=0,1e-3", "--grid", "dropout=0,0.4",
           "--model", "cnn", "-K", "8,16", "--epochs", str(epochs), "--jobs", str(jobs), "--json"]
    t = time.perf_counter()
    subprocess.run(cmd, cwd=folder, check=True, capture_output=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=30)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp())
    try:
        one = sweep(folder, 1, args.epochs)
        two = sweep(folder, 2, args.epochs)
    finally:
        shutil.rmtree(folder)
    ratio = two / (one / 2)
    print(f"4 points, {args.epochs} epochs each: --jobs 1 {one:.1f} s, --jobs 2 {two:.1f} s")
    print(f"jobs-2 time / (jobs-1 time / 2) = {ratio:.2f}  (target <= 1.2)")


if __name__ == "__main__":
    main()
