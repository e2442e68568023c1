"""Sampler and pruner settings for `lab sweep --search tpe --prune-trials median`, compared over many seeds
without training: Optuna's own TPESampler and MedianPruner drive studies over bench/search_vs_grid.py's space
(MNIST MLP: lr, hidden, dropout; 16 trials x 5 epochs), each trial's val_acc curve taken from real runs
(bench/search_curves.json: every complete 5-epoch curve that search_vs_grid's grids and studies trained,
seeds 0-2) as the inverse-distance mean of the 3 nearest (log10 lr, 2 x dropout) curves of the same hidden.

One real study is one draw (seed 0 and 1 of the same settings differed by 22 epochs); this shows the mean
and the spread. Epochs trained stand for compute (search_vs_grid's epoch-seconds need a quiet machine).
Usage: python bench/search_settings.py [--seeds 120]   (needs Optuna)
"""

import argparse
import json
import math
from pathlib import Path

import numpy as np
import optuna

CURVES = [(math.log10(c["lr"]), c["hidden"], c["dropout"], np.array(c["val_acc"]))
          for c in json.loads((Path(__file__).parent / "search_curves.json").read_text())]
# name: (TPE random start-up trials, MedianPruner start-up trials); the first is lab's default
SETTINGS = {"default (4 random, prune after 1)": (4, 1), "before (4 random, prune after 4)": (4, 4),
            "Optuna's 5 (4 random, prune after 5)": (4, 5), "3 random, prune after 1": (3, 1),
            "4 random, prune after 2": (4, 2)}


def curve(lr: float, hidden: int, dropout: float) -> np.ndarray:
    same = [c for c in CURVES if c[1] == hidden]
    d = np.array([math.hypot(c[0] - math.log10(lr), 2 * (c[2] - dropout)) for c in same])
    near = np.argsort(d)[:3]
    w = 1 / (d[near] + 0.05)
    return sum(wi * same[i][3] for wi, i in zip(w, near)) / w.sum()


def study(seed: int, tpe_startup: int, prune_startup: int, trials: int = 16) -> tuple[int, float]:
    """(epochs trained, best val_acc) of one simulated study, reported and pruned as lab's trials are."""
    sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=tpe_startup)
    s = optuna.create_study(direction="maximize", sampler=sampler,
                            pruner=optuna.pruners.MedianPruner(n_startup_trials=prune_startup))
    epochs, best = 0, 0.0
    for _ in range(trials):
        t = s.ask()
        c = curve(t.suggest_float("lr", 1e-4, 1e-1, log=True), int(t.suggest_categorical("hidden", ["64", "256"])),
                  t.suggest_float("dropout", 0.0, 0.5))
        for epoch, value in enumerate(c, 1):
            t.report(float(value), epoch)
            epochs, best = epochs + 1, max(best, float(value))
            if t.should_prune():
                s.tell(t, state=optuna.trial.TrialState.PRUNED)
                break
        else:
            s.tell(t, float(c.max()))
    return epochs, best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=120)
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    grid = max(curve(lr, h, d).max() for lr in (1e-4, 1e-3, 1e-2, 1e-1) for h in (64, 256) for d in (0, 0.5))
    print(f"grid (16 points, 80 epochs): best val_acc {100 * grid:.2f}%; {args.seeds} studies per setting")
    for name, (tpe, prune) in SETTINGS.items():
        runs = np.array([study(seed * 7919, tpe, prune) for seed in range(args.seeds)])
        ep, best = runs[:, 0], runs[:, 1]
        print(f"{name:38s} epochs {ep.mean():5.1f} (10-90%: {np.percentile(ep, 10):.0f}-{np.percentile(ep, 90):.0f}, "
              f"{ep.mean() / 80:.2f}x the grid)  best {100 * best.mean():.2f}%  best >= grid's in "
              f"{np.mean(best >= grid):.0%}  both targets in {np.mean((best >= grid) & (ep <= 40)):.0%}")


if __name__ == "__main__":
    main()
