"""Time to result: `lab train` as whole processes on MNIST, and where every second of the wall clock went.

Cases: the MLP 784-128-10 (1 epoch, lab's defaults otherwise) and `--recipe fast` (1 epoch of the fast CNN),
each a fresh `python -m lab_workbench.commands train ...`. The process's wall time is measured from outside; the phases
come from the run's own results.json (`timings`: startup = interpreter, imports and argument parsing; data;
setup = model, optimizer, run folder; train = the epochs; validation; checkpoints; test; other); 'exit' is
what the process spent after its results were written. Then labtui's first paint beside a minimal Textual
app (the cases of bench/tui_startup.py).
    python bench/time_to_result.py [--repeat 3] [--device cpu|cuda] [--data-dir ../shared/data/mnist]
                                   [--no-tui] [--quick]
Targets (issue 25, 2 cores): wall - train <= 2.0 s for both cases, on a machine whose `import torch` takes
~1.2 s (the floor, measured here first: the overhead above it is printed too); labtui form <= 2.5x the minimal app.
--quick trains on 2,000 images and scores 500 (checks that the script runs; its figures mean nothing).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from startup import best_of  # noqa: E402
from tui_startup import LABTUI, MINIMAL  # noqa: E402

CASES = {"mlp 784-128-10": ["--model", "mlp", "--hidden", "128", "--epochs", "1"],
         "--recipe fast": ["--recipe", "fast"]}
PHASES = ("startup", "data", "setup", "train", "validation", "checkpoints", "test", "other", "exit")


def run_once(flags: list[str], args, runs: str, name: str) -> dict:
    """One `lab train` process: its wall time and its results.json timings, with 'exit' added."""
    argv = [sys.executable, "-m", "lab_workbench.commands", "train", "--dataset", "mnist", "--data-dir", args.data_dir,
            "--device", args.device, "--runs-dir", runs, "--name", name, *flags]
    if args.quick:
        argv += ["--subset", "2000", "--eval-subset", "500"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    done = subprocess.run(argv, cwd=runs, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"lab train {' '.join(flags)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    results = json.loads((Path(runs) / name / "results.json").read_text())
    timings = dict(results["timings"])
    timings["exit"] = max(0.0, wall - timings["wall"])
    timings["wall"] = wall
    return {"timings": timings, "accuracy": results["test"].get("accuracy"), "last": done.stdout.strip()[-200:]}


def median_run(flags: list[str], args, runs: str, label: str) -> dict:
    """The run with the median wall time of --repeat runs."""
    done = [run_once(flags, args, runs, f"{label}-{i}") for i in range(args.repeat)]
    done.sort(key=lambda r: r["timings"]["wall"])
    return done[len(done) // 2]


def report(name: str, r: dict, floor: float) -> None:
    t = r["timings"]
    overhead = t["wall"] - t["train"]
    print(f"{name}: wall {t['wall']:.2f} s, train {t['train']:.2f} s, outside training {overhead:.2f} s "
          f"(target <= 2.0), {overhead - floor:.2f} s above the floor; test accuracy {r['accuracy']:.4f}")
    for phase in PHASES:
        seconds = t.get(phase, 0.0)
        print(f"  {phase:12} {seconds:7.3f} s  {100 * seconds / t['wall']:5.1f}%")


def tui_first_paint(repeat: int) -> None:
    cwd = tempfile.mkdtemp(prefix="lab-bench-ttr-tui-")
    base = best_of([sys.executable, "-c", MINIMAL], repeat, cwd)
    form = best_of([sys.executable, "-c", LABTUI, "form", ""], repeat, cwd)
    print(f"labtui first paint (form) {form:.2f} s, minimal Textual app {base:.2f} s: {form / base:.2f}x "
          f"(target <= 2.5x), best of {repeat}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--no-tui", action="store_true", help="skip labtui's first paint")
    p.add_argument("--quick", action="store_true", help="tiny subsets: check that the script runs")
    args = p.parse_args()
    runs = tempfile.mkdtemp(prefix="lab-bench-ttr-")
    print(f"{os.cpu_count()} CPUs, device {args.device}, MNIST from {args.data_dir}, median of {args.repeat} "
          f"runs each" + (" (--quick: tiny subsets)" if args.quick else ""))
    # the floor: a process that imports torch and exits, what no run of a torch program can go below
    floor = best_of([sys.executable, "-c", "import torch"], max(args.repeat, 1), runs)
    print(f"floor: `python -c 'import torch'` {floor:.2f} s (best of {max(args.repeat, 1)})")
    for label, (name, flags) in enumerate(CASES.items()):
        report(name, median_run(flags, args, runs, f"case{label}"), floor)
    if not args.no_tui:
        tui_first_paint(max(args.repeat, 1))


if __name__ == "__main__":
    main()
