"""Start-up time of lab's commands next to `python -c "import torch"` (best of --repeat, side by side).

    python bench/startup.py [--repeat 5]
Target (2 cores): the help and listing commands under 0.5 s, none of them importing torch.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
COMMANDS = {
    'python -c "import torch"': [PY, "-c", "import torch"],
    "lab --help": [PY, "-m", "lab_workbench.commands", "--help"],
    "lab models": [PY, "-m", "lab_workbench.commands", "models"],
    "lab train --help": [PY, "-m", "lab_workbench.commands", "train", "--help"],
    "lab runs": [PY, "-m", "lab_workbench.commands", "runs"],
    "labtui --help": [PY, "-m", "lab_workbench.commands.labtui", "--help"],
}


def best_of(argv, repeat: int, cwd: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    cwd = tempfile.mkdtemp(prefix="lab-bench-startup-")  # an empty runs folder: `lab runs` lists nothing
    results = {name: best_of(argv, args.repeat, cwd) for name, argv in COMMANDS.items()}
    shutil.rmtree(cwd, ignore_errors=True)
    torch_time = results['python -c "import torch"']
    print(f"best of {args.repeat}, {os.cpu_count()} CPUs")
    for name, t in results.items():
        print(f"{name:28} {t:6.2f} s  {t / torch_time:5.2f}x import torch")


if __name__ == "__main__":
    main()
