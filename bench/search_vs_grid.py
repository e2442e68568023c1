"""A 16-trial TPE study with median pruning against a 16-point grid over the same space (MNIST MLP: lr, hidden,
dropout; 5 epochs a trial): the best validation accuracy of each and the epoch-seconds each spent in all.

Target (issue 34.5): the study reaches at least the grid's best val_acc in at most half the grid's compute.
Both run in one call of this script, one after the other, with the same flags; the machine should be otherwise
idle (epoch-seconds are wall-clock time of the epochs, summed over every run's metrics.csv).
Needs Optuna (pip install 'lab-workbench[search]').
One study is one draw: its epochs vary by a third from seed to seed (--seed: the runs' and the sampler's);
bench/search_settings.py compares sampler and pruner settings over many seeds without training.
Usage: python bench/search_vs_grid.py [--epochs 5] [--jobs 1] [--seed 0] [--data-dir ../shared/data/mnist]
"""

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRID = ["--grid", "lr=1e-4,1e-3,1e-2,1e-1", "--grid", "hidden=64;256", "--grid", "dropout=0,0.5"]
SPACE = ["--param", "lr=log:1e-4..1e-1", "--param", "hidden=64;256", "--param", "dropout=0..0.5"]


def sweep(folder: Path, name: str, how: list[str], args) -> tuple[float, float, int]:
    """(best val_acc, epoch-seconds, epochs trained) of one `lab sweep`."""
    cmd = [sys.executable, "-P", "-m", "lab_workbench.commands", "sweep", name, *how, "--dataset", "mnist", "--data-dir",
           args.data_dir, "--model", "mlp", "--epochs", str(args.epochs), "--jobs", str(args.jobs), "--seed",
           str(args.seed), "--json"]
    subprocess.run(cmd, cwd=folder, check=True, capture_output=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    rows = json.loads((folder / "runs" / name / "summary.json").read_text())
    best = max((r.get("best_val_acc") or 0.0) for r in rows)
    seconds, epochs = 0.0, 0
    for r in rows:
        metrics = folder / "runs" / name / r["point"] / "metrics.csv"
        for row in csv.DictReader(metrics.open()) if metrics.is_file() else []:
            seconds += float(row["seconds"])
            epochs += 1
    return best, seconds, epochs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp())
    try:
        grid = sweep(folder, "grid", GRID, args)
        study = sweep(folder, "tpe", ["--search", "tpe", "--trials", "16", "--prune-trials", "median", *SPACE], args)
    finally:
        shutil.rmtree(folder)
    for label, (best, seconds, epochs) in (("grid, 16 points", grid), ("TPE + median pruning, 16 trials", study)):
        print(f"{label:34s} best val_acc {100 * best:.2f}%  {seconds:8.1f} epoch-seconds  {epochs} epochs")
    print(f"study best - grid best = {100 * (study[0] - grid[0]):+.2f} points (target >= 0); "
          f"study compute / grid compute = {study[1] / grid[1]:.2f} (target <= 0.5; in epochs "
          f"{study[2] / grid[2]:.2f})")


if __name__ == "__main__":
    main()
