"""`lab predict` on 10,000 PNG files against `lab eval` on the same 10,000 MNIST test images.

Both are timed as whole commands (process start to exit), best of --repeat, side by side. The PNGs are
the MNIST test images written once into a temp folder; the model is a 1-epoch MLP run.
    python bench/predict_speed.py [--repeat 3] [--data-dir ../shared/data/mnist]
Target: predict no slower than eval.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def lab(*args, cwd) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lab_workbench.commands", *args], cwd=cwd, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    from PIL import Image
    sys.path.insert(0, str(ROOT))
    from lab_workbench.engine.data.sources import read_source
    work = Path(tempfile.mkdtemp(prefix="lab-bench-predict-"))
    raw = read_source("mnist", data_dir=args.data_dir)
    pngs = work / "pngs"
    pngs.mkdir()
    for i, im in enumerate(raw.test_x):
        Image.fromarray(np.asarray(im)).save(pngs / f"{i:05d}.png")
    lab("train", "--dataset", "mnist", "--data-dir", args.data_dir, "-e", "1", "--name", "m", cwd=work)
    ev = min(lab("eval", "runs/m", "--split", "test", cwd=work) for _ in range(args.repeat))
    pr = min(lab("predict", "runs/m", "pngs", "--csv", "p.csv", cwd=work) for _ in range(args.repeat))
    shutil.rmtree(work, ignore_errors=True)
    print(f"10,000 MNIST test images, best of {args.repeat}, whole commands")
    print(f"lab eval runs/m --split test        {ev:6.2f} s")
    print(f"lab predict runs/m pngs/ --csv      {pr:6.2f} s   predict/eval {pr / ev:.2f} (target <= 1)")


if __name__ == "__main__":
    main()
