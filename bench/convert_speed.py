"""Seconds to convert the 70,000 MNIST images from IDX to HDF5 with `lab convert`, beside the time to
only decompress and parse the same IDX files (the floor any converter pays), printed as a ratio.
    python bench/convert_speed.py [--data-dir ../shared/data/mnist]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab_workbench.engine.data.convert import detect_source  # noqa: E402
from lab_workbench.engine.data import read_idx  # noqa: E402
from lab_workbench.engine.data.h5file import write_h5  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    args = p.parse_args()
    folder = Path(args.data_dir)
    t0 = time.perf_counter()
    for f in sorted(folder.glob("*-ubyte*")):
        read_idx(f)
    parse = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        summary = write_h5(detect_source(str(folder)), Path(tmp) / "mnist.h5")
        convert = time.perf_counter() - t0
    n = sum(summary["counts"].values())
    print(f"IDX parse only         {parse:6.2f} s")
    print(f"lab convert (verified) {convert:6.2f} s  ({n:,} images, {summary['bytes'] / 1e6:.1f} MB, gzip-4)")
    print(f"ratio                  {convert / parse:6.1f}x the parse-only floor (target: a few seconds in all)")


if __name__ == "__main__":
    main()
