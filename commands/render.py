"""Text output for training: a live table on a TTY, one plain line per epoch otherwise."""

from __future__ import annotations

import json
import math
import sys
import time

from lab_workbench.commands.errors import StdoutClosed
from lab_workbench.engine.core.units import percent

HEADER = f"{'epoch':>7}  {'train_loss':>10}  {'train_acc':>9}  {'val_loss':>8}  {'val_acc':>7}  {'lr':>8}  {'time':>6}"


def num(v, width=8, digits=4) -> str:
    return f"{'-':>{width}}" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:>{width}.{digits}f}"


def table_row(e) -> str:
    """One fixed-width row of the epoch table."""
    mark = "*" if getattr(e, "best", False) else " "
    ep = f"{e.epoch}/{e.epochs}"
    return (f"{ep:>7}  {num(e.train_loss, 10)}  {percent(e.train_acc):>9}  {num(e.val_loss)}  {percent(e.val_acc):>7}"
            f"  {e.lr:>8.2e}  {e.seconds:>5.1f}s{mark}")


def plain_line(e, now: float | None = None) -> str:
    """One grep-friendly line per epoch for logs, with the wall-clock time it ended (local, ISO 8601)."""
    v = "val" if e.monitor == "val" else "train_eval"  # no validation split: say what was measured
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() if now is None else now))
    return (f"epoch {e.epoch}/{e.epochs} train_loss={e.train_loss:.4f} train_acc={e.train_acc:.4f} "
            f"{v}_loss={e.val_loss:.4f} {v}_acc={e.val_acc:.4f} lr={e.lr:.3g} time={e.seconds:.2f}s at={at}"
            + (" best" if e.best else ""))


def duration(seconds: float) -> str:
    """12s, 4m05s, 2h03m: an ETA short enough for an 80-column bar."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def start_line(e) -> str:
    sizes = e.dataset.get("sizes", {})
    c, h, w = e.dataset.get("input_shape", ["?"] * 3)
    cfg = e.config
    where = ""
    if e.resumed:
        where = f" at epoch {e.start_epoch}" + (f" batch {e.start_step + 1}" if e.start_step else "")
    train = f", {e.trainable:,} train" if 0 <= e.trainable != e.n_params else ""  # --freeze
    return (f"{'resuming' if e.resumed else 'run'} {e.run_dir}{where}: {cfg['model']} ({e.n_params:,} params{train}) on {e.dataset.get('source')} "
            f"{c}x{h}x{w}, {len(e.dataset.get('classes', []))} classes, {split_sizes(sizes, cfg)}"
            + (f", data: {e.dataset['held']}" if e.dataset.get("held") else "") + f", device {e.device} "
            f"{e.precision}" + (f" {e.threads} threads" if e.device == "cpu" else "")
            + (f", recipe {cfg['recipe']}" if cfg.get("recipe") else "")
            + "".join(f"; {note}" for note in e.notes)
            + ("" if sizes.get("val") else "; no validation split: the val columns are measured on (up to 10,000 "
               "samples of) the training data and best.pt is chosen on training accuracy"))


def split_sizes(sizes: dict, cfg: dict) -> str:
    """'train/val/test 1800/200/10000', saying what --subset and --eval-subset apply to."""
    test = sizes.get("test")
    if cfg.get("eval_subset") and isinstance(test, int) and cfg["eval_subset"] < test:
        test = f"{cfg['eval_subset']} of {test} (--eval-subset)"
    text = f"train/val/test {sizes.get('train')}/{sizes.get('val')}/{test}"
    return text + (f" (--subset {cfg['subset']}: train+val)" if cfg.get("subset") else "")


def end_line(e) -> str:
    h = e.history
    parts = [f"{e.status}:"]
    if e.diverged_at:
        parts.append(f"at epoch {e.diverged_at['epoch']} step {e.diverged_at['step']}")
    if e.error:
        parts.append(e.error)
    if h.best_epoch is not None:
        v = "val" if h.monitor == "val" else "train_eval"
        parts.append(f"best epoch {h.best_epoch} {v}_acc={h.best_val_acc:.4f}")
    if e.test:
        parts.append(f"test_acc={e.test['accuracy']:.4f} test_loss={e.test['loss']:.4f}"
                     + (f" test_top5={e.test['top5']:.4f}" if e.test.get("top5") is not None else ""))
    if e.timings.get("wall") is not None:  # from Enter to this line, beside the seconds spent in epochs
        parts.append(f"train={e.timings.get('train', 0.0):.2f}s wall={e.timings['wall']:.2f}s")
    parts.append(f"-> {h.run_dir}" if h.run_dir else "while loading the data: no run folder was made")
    return " ".join(parts)


def event_json(event) -> str:
    """One JSON line for an event (--json-lines): its fields, minus the checkpoint's tensors."""
    from lab_workbench.engine.runs import RunResult
    from lab_workbench.engine.contract.events import CheckpointReady, RunEnded
    if isinstance(event, CheckpointReady):
        d = {"best": event.best, "epoch": event.state.get("epoch"), "epoch_step": event.state.get("epoch_step")}
    elif isinstance(event, RunEnded):
        d = RunResult.of(event).summary()
    else:
        d = {k: v for k, v in vars(event).items() if k != "rows"}
    return json.dumps({"event": type(event).__name__, "time": round(time.time(), 3), **d}, default=str)


PHASE_TEXT = {"loading": "loading data", "training": "training", "validating": "validating",
              "testing": "testing (test split)", "saving": "saving checkpoint", "cancelling": "cancelling"}


class TrainPrinter:
    """Event callback for `lab train`: mode is 'tty', 'plain', 'jsonl' or 'quiet'; `log` (a text file)
    gets the plain lines whatever the mode. On a TTY a bar says what the run is doing (the phase), how far
    it is, samples/s and the run's ETA."""

    def __init__(self, mode: str, out=None, log=None, console=None):
        self.mode = mode
        self.out = out or sys.stdout
        self.log = log
        self.console = console  # a rich Console for the bar (tests pass one; default: stdout)
        self.log_error = None  # why writing the log failed, if it did
        self.progress = None
        self.task = None
        self.epochs, self.batch_size, self.epoch = 0, 0, 0
        self.rate_from = None  # (monotonic time, step) where the current epoch's speed is measured from
        self.train_ended, self.overhead = None, 0.0  # when the last epoch's batches ended; seconds after them

    def _print(self, text: str) -> None:
        try:
            if self.progress is not None:
                self.progress.console.print(text, highlight=False, markup=False)
            else:
                print(text, file=self.out, flush=True)
        except (OSError, StdoutClosed):  # the terminal or the pipe's reader went away (EIO, EPIPE; StdoutClosed
            # under run_cli's guard, `lab train | head`): the run goes on; the run folder has it all
            self.mode, self.progress = "quiet", None

    def _log(self, text: str) -> None:
        if self.log is not None:
            try:
                self.log.write(text + "\n")
                self.log.flush()
            except OSError as e:  # a full disk, /dev/full: training goes on, the command reports it at the end
                self.log_error, self.log = e.strerror or str(e), None

    def __call__(self, event) -> None:
        from lab_workbench.engine.contract.events import BatchEnded, EpochEnded, PhaseChanged, RunEnded, RunStarted
        if self.mode == "jsonl":
            self._print(event_json(event))
        match event:
            case PhaseChanged() if self.mode == "tty":
                self._phase(event)
            case RunStarted():
                self._started(event)
            case BatchEnded() if self.progress is not None:
                self._batch(event)
            case EpochEnded():
                line = plain_line(event)
                self._log(line)
                if self.mode in ("tty", "plain"):
                    self._print(table_row(event) if self.mode == "tty" else line)
            case RunEnded():
                self.close()
                self._log(end_line(event))
                if self.mode in ("tty", "plain"):
                    self._print(end_line(event))

    def _started(self, event) -> None:
        for warning in [*(event.dataset.get("warnings") or []), *event.warnings]:
            sys.stderr.write(f"warning: {warning}\n")
        self._log(start_line(event))
        self.epochs, self.batch_size = event.config.get("epochs", 0), event.config.get("batch_size", 0)
        if self.mode in ("tty", "plain"):
            self._print(start_line(event))
        if self.mode == "tty":
            self._start_progress()
            self._print(HEADER)

    def _phase(self, e) -> None:
        """Show the phase: the bar counts samples where the phase has them, else it pulses."""
        self._start_progress()
        self.epoch = e.epoch or self.epoch
        where = f"epoch {e.epoch}/{self.epochs} " if e.epoch and self.epochs and e.phase != "testing" else ""
        text = where + PHASE_TEXT.get(e.phase, e.phase)
        if e.phase == "training":
            if self.train_ended is not None:  # validation and saving of the last epoch: counted in the ETA
                self.overhead = time.monotonic() - self.train_ended
            self.rate_from = None
            self.progress.update(self.task, description=text, total=None, completed=0, count="", info="")
            return
        count = f"{e.done:,}/{e.total:,}" if e.total else ""
        self.progress.update(self.task, description=text, total=e.total or None, completed=e.done, count=count,
                             info="samples" if e.total else "")

    def _batch(self, e) -> None:
        now = time.monotonic()
        if self.rate_from is None or e.step < self.rate_from[1]:
            self.rate_from = (now, e.step)
        t0, step0 = self.rate_from
        info = f"loss {e.loss:.4f}"
        if now - t0 > 0.2 and e.step > step0:
            steps_s = (e.step - step0) / (now - t0)
            left = (e.steps - e.step) + max(0, self.epochs - e.epoch) * e.steps
            eta = left / steps_s + self.overhead * max(1, self.epochs - e.epoch + 1)
            info = f"{steps_s * self.batch_size:,.0f} samples/s  {info}  ETA {duration(eta)}"
        if e.step == e.steps:
            self.train_ended = now
        self.progress.update(self.task, total=e.steps, completed=e.step, count=f"{e.step}/{e.steps}", info=info)

    def _start_progress(self) -> None:
        if self.progress is not None:
            return
        from rich.progress import BarColumn, Progress, TextColumn
        # the bar takes what the text leaves of the terminal's width: the line never wraps at 80 columns
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(bar_width=None),
                                 TextColumn("{task.fields[count]}"), TextColumn("{task.fields[info]}"),
                                 transient=True, expand=True, console=self.console or _console(self.out))
        self.task = self.progress.add_task("starting", total=None, count="", info="")
        self.progress.start()

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def _console(out):
    """The bar's console on lab's own stdout (while training, sys.stdout is stderr: see commands/train.py)."""
    from rich.console import Console
    return Console(file=out)
