"""`lab train`: flags -> TrainConfig -> engine.train, with a table, log lines or JSON on stdout."""

import json
import signal
import sys
from pathlib import Path
from typing import Optional

import typer

from .options import RESUME_HELP, config_from_options, options_given, with_train_options
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


def resolve_resume(resume: str | None, given: dict) -> str | None:
    """'auto' resumes the run that --name names if it has a config.json, else starts it (requeued jobs)."""
    if resume != "auto":
        return resume
    from engine.errors import ConfigError
    from engine.config import check_run_name
    name = given.get("name")
    if not name:
        raise ConfigError("--resume auto: needs --name (the run to resume, or to create)")
    check_run_name(name)
    folder = Path(given.get("runs_dir", "runs")) / name
    return str(folder) if (folder / "config.json").is_file() else None


@with_train_options
def train_command(
    resume: Optional[str] = typer.Option(None, "--resume", help=RESUME_HELP, metavar="RUN"),
    json_out: bool = typer.Option(False, "--json", help="print results.json (and the run folder) to stdout at the end"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors"),
    **options,
):
    """Train a model and write a run folder (config.json, metrics.csv, results.json, best.pt, last.pt)."""
    from engine.training.trainer import resume_config, train

    given = options_given(options)
    resume = resolve_resume(resume, given)
    run_dir = None
    if resume:
        cfg, run_dir = resume_config(resume, given.get("runs_dir", "runs"), **given)
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
        results = json.loads((Path(history.run_dir) / "results.json").read_text())
        print(json.dumps({"run_dir": str(Path(history.run_dir).resolve()), **results}, indent=2))
    if history.status == "interrupted" and stop.signum:
        raise typer.Exit(128 + stop.signum)
    if history.status == "diverged":
        sys.stderr.write("error: training diverged (the loss stopped being finite or exploded); "
                         "the last good checkpoint is kept; try a lower --lr\n")
        raise typer.Exit(1)
