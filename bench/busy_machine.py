"""An MLP epoch on an idle machine and with a second busy process, with lab's thread choice and with others.

Each case is a fresh `lab train` process (MNIST, MLP 784-256-128-10, Adam, batch 64, 1 epoch, fp32); the
busy process is a pure-Python spin loop pinned to nothing, as another user's job would be.
    python bench/busy_machine.py [--data-dir ../shared/data/mnist]
"""

import argparse
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def spin():
    while True:
        pass


def epoch_seconds(data_dir: str, runs: str, extra: list[str], env: dict) -> float:
    argv = [sys.executable, "-m", "lab_workbench.commands", "train", "--dataset", "mnist", "--data-dir", data_dir, "--model",
            "mlp", "--epochs", "1", "--precision", "fp32", "--val-split", "0", "--runs-dir", runs, "--json", *extra]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, env={**os.environ, **env,
                                                                                 "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout)["history"][0]["seconds"]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    args = p.parse_args()
    runs = tempfile.mkdtemp(prefix="lab-bench-busy-")
    cases = [("lab default threads", [], {}), ("--threads 1", ["--threads", "1"], {}),
             ("--threads 2", ["--threads", "2"], {})]
    idle = {name: epoch_seconds(args.data_dir, runs, extra, env) for name, extra, env in cases}
    hog = mp.Process(target=spin, daemon=True)
    hog.start()
    try:
        busy = {name: epoch_seconds(args.data_dir, runs, extra, env) for name, extra, env in cases}
    finally:
        hog.terminate()
    shutil.rmtree(runs, ignore_errors=True)
    print(f"{os.cpu_count()} CPUs; seconds per MLP epoch, idle and with one busy process")
    for name, *_ in cases:
        print(f"{name:22} idle {idle[name]:6.2f} s   busy {busy[name]:6.2f} s   "
              f"busy/idle {busy[name] / idle[name]:5.2f}")


if __name__ == "__main__":
    main()
