"""Training speed under labtui vs headless `lab train`, same config, measured side by side in one run.

The TUI runs headless (Textual's test driver renders every frame as it would on a terminal) at 80x24.
Each measurement runs in a fresh process, as each tool does in use: a thread pool that torch built in one
thread of a process slows training in another thread of the same process, which is not what users see.
    python bench/tui_overhead.py [--data-dir ../shared/data/mnist] [--epochs 3]
"""

import argparse
import asyncio
import io
import multiprocessing
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab_workbench.commands.render import TrainPrinter  # noqa: E402
from lab_workbench.engine import TrainConfig, train  # noqa: E402


def config(args, runs):
    mnist = Path(args.data_dir)
    if (mnist / "train-images-idx3-ubyte.gz").is_file():
        return TrainConfig(dataset="mnist", data_dir=str(mnist), model="mlp", epochs=args.epochs, runs_dir=runs)
    return TrainConfig(dataset="digits", model="mlp", epochs=args.epochs * 10, batch_size=8, runs_dir=runs)


def headless(cfg) -> float:
    history = train(cfg, on_event=TrainPrinter("plain", out=io.StringIO()))
    return sum(r["seconds"] for r in history.rows) / len(history.rows)


async def under_tui(cfg) -> float:
    from lab_workbench.tui.app import make_app
    from lab_workbench.tui.screens.run import RunScreen
    app = make_app(cfg)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        # plain sleeps: Pilot.pause walks every widget of the screen and posts each a message, a cost of the
        # test harness (not of labtui) that grows with the screen and competes with training for the GIL
        while not (isinstance(app.screen, RunScreen) and app.screen.state in ("completed", "failed")):
            await asyncio.sleep(0.5)
        rows = app.screen.rows
    return sum(r["seconds"] for r in rows) / len(rows)


def tui_process(cfg) -> float:
    return asyncio.run(under_tui(cfg))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as runs:
        cfg = config(args, runs)
        print(f"{cfg.dataset}, {cfg.model}, {cfg.epochs} epochs, batch {cfg.batch_size}; "
              f"mean seconds per epoch, best of {args.repeats}, alternating")
        a, b = [], []
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(1, maxtasksperchild=1) as pool:
            for _ in range(args.repeats):
                a.append(pool.apply(headless, (cfg,)))
                b.append(pool.apply(tui_process, (cfg,)))
    print(f"lab train (headless)  {min(a):7.3f} s/epoch")
    print(f"labtui                {min(b):7.3f} s/epoch")
    print(f"ratio                 {min(b) / min(a):7.3f} (target: <= 1.05)")


if __name__ == "__main__":
    main()
