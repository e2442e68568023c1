"""Time to the first paint of labtui's form, runs browser and watch mode, next to a minimal Textual app.

Each case is a fresh interpreter that builds the app, runs it headless at 80x24 until its first screen is
mounted, and exits; best of --repeat, side by side.
    python bench/tui_startup.py [--repeat 5]
Target (2 cores): under 1.5 s for each labtui screen.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

from startup import best_of  # bench/ is on sys.path when a script in it runs
MINIMAL = """
import asyncio
from textual.app import App
from textual.widgets import Static
class Minimal(App):
    def compose(self):
        yield Static("hello")
async def main():
    async with Minimal().run_test(size=(80, 24)) as pilot:
        await pilot.pause()
asyncio.run(main())
"""
LABTUI = """
import asyncio, sys
from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.tui.app import make_app
async def main():
    app = make_app(TrainConfig(runs_dir="runs"), start=sys.argv[1], watch=sys.argv[2] or None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
asyncio.run(main())
"""


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    cwd = tempfile.mkdtemp(prefix="lab-bench-tui-")
    run = Path(cwd) / "runs" / "demo"
    run.mkdir(parents=True)
    (run / "config.json").write_text('{"config": {"model": "mlp", "epochs": 3}, "data": {}}')
    (run / "metrics.csv").write_text("epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds\n1,1,0.5,1,0.5,0.001,1\n")
    cases = {"minimal Textual app": (MINIMAL, []), "labtui form": (LABTUI, ["form", ""]),
             "labtui --runs": (LABTUI, ["runs", ""]), "labtui --watch": (LABTUI, ["form", str(run)])}
    results = {name: best_of([sys.executable, "-c", code, *a], args.repeat, cwd)
               for name, (code, a) in cases.items()}
    base = results["minimal Textual app"]
    print(f"best of {args.repeat}, {os.cpu_count()} CPUs, process start to first paint and exit")
    for name, t in results.items():
        print(f"{name:22} {t:6.2f} s  {t / base:5.2f}x minimal")


if __name__ == "__main__":
    main()
