"""Accuracy of lab's defaults: MNIST test accuracy after 5 epochs of `lab train --model M` with no other flag,
against the same run at a constant learning rate (the defaults before issue 25: `--scheduler none`).

    python bench/default_accuracy.py [--models mlp,cnn] [--seeds 1] [--epochs 5] [--no-baseline] [--quick]
Targets (issue 25): the default MLP >= 98.0% (it was 97.46% at a constant lr), the default CNN >= 99.3%.
--quick trains on 2,000 images and scores 500 (checks that the script runs; its figures mean nothing).
"""

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab_workbench.engine.settings.config import TrainConfig  # noqa: E402
from lab_workbench.engine.training.trainer import train  # noqa: E402

TARGETS = {"mlp": 0.980, "cnn": 0.993}


def test_accuracy(model: str, args, runs: str, seed: int, **changes) -> tuple[float, float]:
    """(test accuracy, training seconds) of one run of the defaults with `changes`."""
    cfg = TrainConfig(dataset="mnist", data_dir=args.data_dir, model=model, epochs=args.epochs, seed=seed,
                      runs_dir=runs, **changes)
    if args.quick:
        cfg = cfg.replace(subset=2000, eval_subset=500)
    h = train(cfg)
    return h.test_acc, sum(r["seconds"] for r in h.rows)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    p.add_argument("--models", default="mlp,cnn")
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="tiny subsets: check that the script runs")
    p.add_argument("--no-baseline", action="store_true", help="only the defaults, not --scheduler none")
    args = p.parse_args()
    runs = tempfile.mkdtemp(prefix="lab-bench-acc-")
    default_schedule = TrainConfig().scheduler
    print(f"MNIST, {args.epochs} epochs, {args.seeds} seed(s); default schedule {default_schedule!r} against "
          f"'none'" + (" (--quick: tiny subsets)" if args.quick else ""))
    for model in args.models.split(","):
        variants = [(f"defaults ({default_schedule})", {})]
        if not args.no_baseline:
            variants.append(("--scheduler none", {"scheduler": "none"}))
        for label, changes in variants:
            done = [test_accuracy(model, args, runs, seed, **changes) for seed in range(args.seeds)]
            accs, secs = [a for a, _ in done], [s for _, s in done]
            target = f" (target >= {TARGETS[model]:.1%})" if model in TARGETS and not changes else ""
            print(f"{model:6} {label:22} test accuracy worst {min(accs):.4f} median {statistics.median(accs):.4f}"
                  f"{target}, training {statistics.median(secs):.2f} s", flush=True)
    shutil.rmtree(runs, ignore_errors=True)


if __name__ == "__main__":
    main()
