"""Does `lab lr-find` pick a good learning rate? Its suggestion against a hand sweep over 1e-4..1e-1.

MNIST, the MLP (256,128), Adam, batch 64, 2 epochs each; test accuracy of every lr, side by side.
    python bench/lr_find_mnist.py [--epochs 2] [--data-dir ../shared/data/mnist]
Target: the suggestion within 0.3 points of the best swept lr.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab_workbench.engine.settings.config import config_from_text  # noqa: E402
from lab_workbench.engine.data import load_dataset  # noqa: E402
from lab_workbench.engine.training.lr_find import lr_find  # noqa: E402
from lab_workbench.engine.training.trainer import train  # noqa: E402

SWEEP = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    p.add_argument("--epochs", type=int, default=2)
    args = p.parse_args()
    runs = tempfile.mkdtemp(prefix="lab-bench-lr-")
    base = {"dataset": "mnist", "data_dir": args.data_dir, "model": "mlp", "optimizer": "adam",
            "epochs": str(args.epochs), "runs_dir": runs}
    cfg = config_from_text(base)
    data = load_dataset(cfg, "cpu")
    found = lr_find(cfg, dataset=data)
    print(f"lr-find: steepest {found.steepest:.2g}, minimum {found.minimum:.2g}, suggestion {found.suggestion:.2g} "
          f"({len(found.lrs)} steps, {found.stopped})")
    results = {}
    for lr in SWEEP + [found.suggestion]:
        h = train(config_from_text({**base, "lr": str(lr)}), dataset=data)
        results[lr] = h.test_acc
        mark = "  <- suggestion" if lr == found.suggestion else ""
        print(f"lr {lr:8.2g}  test accuracy {100 * h.test_acc:6.2f}%{mark}", flush=True)
    shutil.rmtree(runs, ignore_errors=True)
    best = max(results[lr] for lr in SWEEP)
    print(f"best of the sweep {100 * best:.2f}%, suggestion {100 * results[found.suggestion]:.2f}%: "
          f"{100 * (best - results[found.suggestion]):+.2f} points behind (target <= 0.3)")


if __name__ == "__main__":
    main()
