"""Text output for training: a live table on a TTY, one plain line per epoch otherwise."""

from __future__ import annotations

import json
import math
import sys
import time

HEADER = f"{'epoch':>7}  {'train_loss':>10}  {'train_acc':>9}  {'val_loss':>8}  {'val_acc':>7}  {'lr':>8}  {'time':>6}"


def pct(v) -> str:
    return "    -" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.2f}%"


def num(v, width=8, digits=4) -> str:
    return f"{'-':>{width}}" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:>{width}.{digits}f}"


def table_row(e) -> str:
    """One fixed-width row of the epoch table."""
    mark = "*" if getattr(e, "best", False) else " "
    ep = f"{e.epoch}/{e.epochs}"
    return (f"{ep:>7}  {num(e.train_loss, 10)}  {pct(e.train_acc):>9}  {num(e.val_loss)}  {pct(e.val_acc):>7}"
            f"  {e.lr:>8.2e}  {e.seconds:>5.1f}s{mark}")


def plain_line(e) -> str:
    """One grep-friendly line per epoch for logs."""
    v = "val" if e.monitor == "val" else "train_eval"  # no validation split: say what was measured
    return (f"epoch {e.epoch}/{e.epochs} train_loss={e.train_loss:.4f} train_acc={e.train_acc:.4f} "
            f"{v}_loss={e.val_loss:.4f} {v}_acc={e.val_acc:.4f} lr={e.lr:.3g} time={e.seconds:.2f}s"
            + (" best" if e.best else ""))


def start_line(e) -> str:
    sizes = e.dataset.get("sizes", {})
    c, h, w = e.dataset.get("input_shape", ["?"] * 3)
    cfg = e.config
    where = ""
    if e.resumed:
        where = f" at epoch {e.start_epoch}" + (f" batch {e.start_step + 1}" if e.start_step else "")
    return (f"{'resuming' if e.resumed else 'run'} {e.run_dir}{where}: {cfg['model']} ({e.n_params:,} params) on {e.dataset.get('source')} "
            f"{c}x{h}x{w}, {len(e.dataset.get('classes', []))} classes, "
            f"train/val/test {sizes.get('train')}/{sizes.get('val')}/{sizes.get('test')}, device {e.device} "
            f"{e.precision}" + (f" {e.threads} threads" if e.device == "cpu" else "")
            + (f", recipe {cfg['recipe']}" if cfg.get("recipe") else "")
            + ("" if sizes.get("val") else "; no validation split: the val columns are measured on the training "
               "data and best.pt is chosen on training accuracy"))


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
    parts.append(f"-> {h.run_dir}")
    return " ".join(parts)


def event_json(event) -> str:
    """One JSON line for an event (--json-lines): its fields, minus the checkpoint's tensors."""
    from engine.training.events import CheckpointReady, RunEnded
    if isinstance(event, CheckpointReady):
        d = {"best": event.best, "epoch": event.state.get("epoch"), "epoch_step": event.state.get("epoch_step")}
    elif isinstance(event, RunEnded):
        h = event.history
        d = {"status": event.status, "test": event.test, "run_dir": h.run_dir, "best_epoch": h.best_epoch,
             "best_val_acc": h.best_val_acc, "epochs_completed": len(h.rows), "error": event.error,
             "diverged_at": event.diverged_at}
    else:
        d = {k: v for k, v in vars(event).items() if k != "rows"}
    return json.dumps({"event": type(event).__name__, "time": round(time.time(), 3), **d}, default=str)


class TrainPrinter:
    """Event callback for `lab train`: mode is 'tty', 'plain', 'jsonl' or 'quiet'; `log` (a text file)
    gets the plain lines whatever the mode."""

    def __init__(self, mode: str, out=None, log=None):
        self.mode = mode
        self.out = out or sys.stdout
        self.log = log
        self.log_error = None  # why writing the log failed, if it did
        self.progress = None
        self.task = None

    def _print(self, text: str) -> None:
        try:
            if self.progress is not None:
                self.progress.console.print(text, highlight=False, markup=False)
            else:
                print(text, file=self.out, flush=True)
        except OSError:  # the terminal went away (EIO, EPIPE): the run goes on; the run folder has it all
            self.mode, self.progress = "quiet", None

    def _log(self, text: str) -> None:
        if self.log is not None:
            try:
                self.log.write(text + "\n")
                self.log.flush()
            except OSError as e:  # a full disk, /dev/full: training goes on, the command reports it at the end
                self.log_error, self.log = e.strerror or str(e), None

    def __call__(self, event) -> None:
        from engine.training.events import BatchEnded, EpochEnded, RunEnded, RunStarted
        if self.mode == "jsonl":
            self._print(event_json(event))
        match event:
            case RunStarted():
                for warning in event.dataset.get("warnings") or []:
                    sys.stderr.write(f"warning: {warning}\n")
                self._log(start_line(event))
                if self.mode in ("tty", "plain"):
                    self._print(start_line(event))
                if self.mode == "tty":
                    self._start_progress()
                    self._print(HEADER)
            case BatchEnded() if self.progress is not None:
                self.progress.update(self.task, total=event.steps, completed=event.step,
                                     description=f"epoch {event.epoch}", loss=f"loss {event.loss:.4f}")
            case EpochEnded():
                self._log(plain_line(event))
                if self.mode in ("tty", "plain"):
                    self._print(table_row(event) if self.mode == "tty" else plain_line(event))
                if self.progress is not None:
                    self.progress.reset(self.task)
            case RunEnded():
                self.close()
                self._log(end_line(event))
                if self.mode in ("tty", "plain"):
                    self._print(end_line(event))

    def _start_progress(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[loss]}"), TimeRemainingColumn(), transient=True)
        self.task = self.progress.add_task("epoch", total=None, loss="")
        self.progress.start()

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
