"""`lab train`: flags -> TrainConfig -> engine.train, with a table, log lines or JSON on stdout."""

import json
import signal
import sys
from pathlib import Path
from typing import Optional

import typer

from .options import config_from_options, options_given, with_train_options
from .render import TrainPrinter


class StopFlag:
    """Turns SIGTERM/SIGINT into a clean stop between batches; a second Ctrl-C aborts at once."""

    def __init__(self):
        self.signum = None
        self._old = {}

    def __enter__(self):
        for s in (signal.SIGINT, signal.SIGTERM):
            self._old[s] = signal.signal(s, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signum = signum
        sys.stderr.write(f"\n{signal.Signals(signum).name}: stopping after this batch (last.pt is kept)\n")

    def __call__(self):
        return "interrupted" if self.signum is not None else None

    def __exit__(self, *exc):
        for s, h in self._old.items():
            signal.signal(s, h)


@with_train_options
def train_command(
    resume: Optional[str] = typer.Option(None, "--resume", help="continue a run folder (or 'latest') from last.pt"),
    json_out: bool = typer.Option(False, "--json", help="print results.json to stdout at the end"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors"),
    **options,
):
    """Train a model and write a run folder (config.json, metrics.csv, results.json, best.pt, last.pt)."""
    from engine.training.trainer import resume_config, train

    run_dir = None
    if resume:
        given = options_given(options)
        base, run_dir = resume_config(resume, given.get("runs_dir", "runs"))
        cfg = config_from_options(options, base)
    else:
        cfg = config_from_options(options)
    mode = "quiet" if (quiet or json_out) else ("tty" if sys.stdout.isatty() else "plain")
    printer = TrainPrinter(mode)
    try:
        with StopFlag() as stop:
            history = train(cfg, on_event=printer, should_stop=stop, resume=run_dir)
    finally:
        printer.close()
    if json_out:
        print(json.dumps(json.loads((Path(history.run_dir) / "results.json").read_text()), indent=2))
    if history.status == "interrupted" and stop.signum:
        raise typer.Exit(128 + stop.signum)
    if history.status == "diverged":
        sys.stderr.write("error: training diverged (loss is not finite); try a lower --lr\n")
        raise typer.Exit(1)
