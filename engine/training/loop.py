"""The training loop, in named parts: restore, one epoch, validation, early stopping, snapshot, finish.

It computes and emits typed events and writes no file (the RunWriter does). What a checkpoint holds is
TrainingState's (state.py); the best epoch, --patience and divergence are EpochTracker's (tracking.py).
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Callable, Sequence

import torch

from lab_workbench.engine.settings.config import TrainConfig, parse_augment
from lab_workbench.engine.data import Dataset
from lab_workbench.engine.data.batches import EpochBatches, epoch_order, steps_per_epoch
from lab_workbench.engine.data.points import is_points
from lab_workbench.engine.core.errors import DataError
from lab_workbench.engine.evaluation.metrics import loss_acc_confusion, sample_split
from lab_workbench.engine.training.finetune import set_frozen, trainable
from lab_workbench.engine.runtime.precision import autocast, resolve_precision
from lab_workbench.engine.runtime.timings import Timings
from lab_workbench.engine.training.augment import augment
from lab_workbench.engine.training.distributed import Distributed, per_process_batch
from lab_workbench.engine.training.ema import EMA
from lab_workbench.engine.training.epoch_state import EpochAccum, plain_state, rng_state
from lab_workbench.engine.contract.events import (BatchEnded, BoundaryReady, CheckpointReady, EpochEnded, History, PhaseChanged, RunEnded,
                     RunStarted)
from lab_workbench.engine.training.optim import make_optimizer
from lab_workbench.engine.training.schedule import Schedule
from lab_workbench.engine.training.state import TrainingState
from lab_workbench.engine.training.step import StepParts, train_step
from lab_workbench.engine.training.stops import STOPPED, Stopped, status_of, stop_status
from lab_workbench.engine.training.tracking import EpochTracker

EVENT_INTERVAL = 0.25  # seconds between BatchEnded events: each one costs a device sync
TRAIN_MONITOR_MAX = 10_000  # without a validation split, epochs are scored on this many training samples


class TrainLoop:
    """One run's training state and the steps that advance it; built complete: from `state` (a checkpoint to
    continue, with best.pt's weights `best`) or from the start."""

    def __init__(self, cfg: TrainConfig, data: Dataset, model: torch.nn.Module, dist: Distributed,
                 emit: Callable, should_stop: Callable | None, run_dir: str, *, state: TrainingState | None = None,
                 best: dict | None = None, resumed: bool = False, flush: Callable[[], None] | None = None,
                 notes: Sequence[str] = (), warnings: Sequence[str] = (), timings: Timings | None = None):
        self.cfg, self.data, self.model, self.dist = cfg, data, model, dist
        self.device = dist.device
        self.emit, self.should_stop, self.run_dir = emit, should_stop, run_dir
        self.flush = flush or (lambda: None)  # waits for the run folder's writes (RunWriter.wait)
        self.resumed = resumed  # a resume, also of a run stopped before its first checkpoint
        self.notes, self.warnings = tuple(notes), tuple(warnings)  # what the trainer adapted; trackers' word
        self.timings = timings or Timings()  # the one that has timed the data and the set-up
        self.precision = resolve_precision(cfg.precision, self.device)
        self.channels_last = self.device.type in ("cpu", "cuda") and uses_channels_last(model)
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        set_frozen(model, cfg.freeze, True)  # before the DDP wrap: it syncs only what trains
        self.net = dist.wrap(model)
        self.opt = make_optimizer(model, cfg)
        self.parts = StepParts.build(self.net, model, self.opt, cfg, self.precision, self.device)
        self.scaler = self.parts.scaler
        self.ema = EMA(model, cfg.ema) if cfg.ema else None
        # --batch-size is the global batch: global batch s is the slice s of the epoch's order, shared
        # among the processes, so an epoch's steps and samples do not depend on how many processes train
        self.batch = per_process_batch(cfg.batch_size, dist.world)
        self.steps = steps_per_epoch(len(dist.shard(torch.arange(len(data.train)))), self.batch)
        # the lrs come from this config (a resume's new --lr or --epochs included), not from the checkpoint
        self.schedule = Schedule(cfg, self.steps, [g["lr"] for g in self.opt.param_groups])
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.history = History(run_dir=run_dir, monitor="val" if len(data.val) else "train")
        self.track = EpochTracker(cfg.monitor, cfg.patience, data.num_classes)
        self.epoch, self.global_step = 0, 0  # last completed epoch, optimizer steps so far
        self.perm: torch.Tensor | None = None  # the current epoch's shuffle, None between epochs
        self.position, self.accum = 0, None  # batches done in the current epoch, and their sums
        self.ended = False  # the run folder says the run had ended before this resume
        self.kinds = parse_augment(cfg.augment)
        self.paused = 0.0
        # chosen once: without a validation split, a bounded seeded sample of the training data is scored
        self.monitored = data.val if len(data.val) else sample_split(data.train, TRAIN_MONITOR_MAX, cfg.seed)
        if state is not None:
            self._restore(state, best)

    # ---- restore and snapshot: the fields are TrainingState's ----
    def _restore(self, state: TrainingState, best: dict | None) -> None:
        """Continue from a checkpoint: weights, optimizer, plateau's state, RNG, counters, epoch position."""
        state.check_epochs(self.cfg.epochs)
        state.load_into(self.model, self.ema, self.opt, self.scaler, self.schedule, self.gen, self.dist)
        self.history = History.from_dict(state.history)
        self.history.run_dir = self.run_dir
        self.epoch, self.global_step, self.ended = state.epoch, state.step, state.ended
        self.track.restore(state, self.history.rows, self.history.best_epoch, best)
        if state.mid_epoch:
            self.perm, self.position = state.position(len(self.data.train), self.steps, self.data.train.streamed,
                                                      self.dist.world)
            self.accum = state.accum(self.device, self.dist.is_main)

    def snapshot(self) -> dict:
        """A consistent checkpoint dict: at an epoch's end, or mid-epoch with the position to continue from."""
        state = TrainingState(model=plain_state(self.evaluated.state_dict()), config=self.cfg.to_dict(),
                              data=self.data.facts, optimizer=self.opt.state_dict(), scaler=self.scaler.state_dict(),
                              scheduler=self.schedule.state_dict(self.global_step), epoch=self.epoch,
                              best_epoch=self.history.best_epoch, step=self.global_step, **self.track.fields(),
                              history=self.history.to_dict(), rng=rng_state(self.gen), world_size=self.dist.world)
        if self.ema is not None:
            state.raw_model, state.ema_updates = plain_state(self.model.state_dict()), self.ema.updates
        if self.dist.active:  # each rank draws its own dropout masks
            state.rank_rng = self.dist.gather(torch.get_rng_state())
        if self.perm is not None:
            state.epoch_step, state.epoch_perm = self.position, self.perm.cpu()
            state.epoch_accum = self._summed().to_state()
        return state.to_dict()

    def _summed(self) -> EpochAccum:
        """The epoch's sums so far over every rank: a resume on any number of processes continues them."""
        acc = self.accum
        if not self.dist.active:
            return acc
        seen = torch.tensor(float(acc.seen), device=self.device)
        loss_sum, correct, seen = self.dist.sum(acc.loss_sum.clone(), acc.correct.clone(), seen)
        return EpochAccum(loss_sum, correct, int(seen.item()), acc.seconds)

    # ---- the run ----
    def run(self) -> History:
        """Train from the current position to cfg.epochs; returns the History."""
        cfg = self.cfg
        self._release_frozen(self.epoch + 1)
        self.emit(RunStarted(cfg.to_dict(), self.run_dir, sum(p.numel() for p in self.model.parameters()),
                             str(self.device), self.data.facts, self.epoch + 1, self.position,
                             tuple(self.history.rows), self.resumed, self.precision, torch.get_num_threads(),
                             trainable(self.model), self.notes, self.warnings))
        error, diverged = "", None
        # a run stopped during the test score of its early stop has nothing left to train: it is scored
        status = "early-stopped" if self.track.patience_spent() and self.perm is None and self.resumed \
            and not self.ended else "completed"
        try:
            for epoch in range(self.epoch + 1, cfg.epochs + 1) if status == "completed" else ():
                with self.timings.phase("train"):
                    stop = self.train_epoch(epoch)
                if stop is None:
                    diverged = self._diverged(epoch)
                    stop = "diverged" if diverged else None
                if stop:
                    status = stop
                    break
                try:
                    self.end_epoch(epoch)
                except Stopped as s:  # during validation: the checkpoint below is at the epoch's last batch
                    status = s.status
                    break
                if self.track.patience_spent() and epoch < cfg.epochs:
                    status = "early-stopped"
                    break
            if status in ("cancelled", "interrupted", "diverged") and diverged is None:
                diverged = self._diverged(self.epoch + 1)  # a stop may come before the check saw it
                status = "diverged" if diverged else status
            if status in STOPPED:
                self.emit(PhaseChanged("saving", epoch=self.epoch + 1))
                self._checkpoint(best=False)  # mid-epoch: resumable at this batch
            return self._finish(status, diverged=diverged)
        except BaseException as e:  # a bug, a full disk, or a second Ctrl-C during the clean-up
            status = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
            if isinstance(e, DataError) and self.perm is not None and not self.dist.active:
                self.emit(CheckpointReady(self.snapshot()))  # the batches before the bad read are kept
            error = (str(e).strip().splitlines() or [type(e).__name__])[0][:300] if status == "failed" else ""
            try:
                self._finish(status, error=error, evaluate=False)
            except Exception:  # the original error is the one to report (a full disk fails both)
                pass
            raise

    def _release_frozen(self, epoch: int) -> None:
        if self.cfg.freeze and self.cfg.unfreeze_at and epoch >= self.cfg.unfreeze_at:
            set_frozen(self.model, self.cfg.freeze, False)

    def train_epoch(self, epoch: int) -> str | None:
        """Train one epoch from self.position; returns a stop reason, or None when the epoch completed."""
        self._release_frozen(epoch)
        train = self.data.train
        if self.perm is None:
            self.perm, self.position = epoch_order(train, self.gen), 0
            self.accum = EpochAccum.zeros(self.device)
        self.model.train()
        acc = self.accum
        perm = self.dist.shard(self.perm, contiguous=train.streamed).to(self.device)
        t0, paused0, last_emit = time.perf_counter(), self.paused, time.monotonic()
        stop = None
        self.emit(PhaseChanged("training", epoch=epoch))  # its progress comes as BatchEnded events
        batches = EpochBatches(train, perm, self.batch, self.position)
        for step, xb, yb in self._fetched(batches, epoch):
            stop = self._poll()
            if stop:
                self.emit(PhaseChanged("cancelling", epoch=epoch))
                break
            xb = augment(xb, self.kinds, self.gen)
            if self.channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            self.schedule.apply(self.opt, self.global_step)
            loss, out = train_step(self.parts, xb, yb)
            if self.ema is not None:
                self.ema.update()
            self._accumulate(acc, loss, out, yb)
            self.position = step + 1
            now = time.monotonic()
            if now - last_emit >= EVENT_INTERVAL or self.position == self.steps:
                last_emit = now
                self.emit(BatchEnded(epoch, self.position, self.steps, loss.item()))
                if not self.dist.active and acc.bad_step.item() >= 0:  # ranks check together at the end
                    stop = "diverged"
                    break
        batches.close()
        acc.seconds += time.perf_counter() - t0 - (self.paused - paused0)
        return stop

    def _fetched(self, batches: EpochBatches, epoch: int):
        """The epoch's batches; a data file that fails mid-run is named with the epoch and batch."""
        try:
            yield from batches
        except DataError as e:
            raise DataError(f"{e} at epoch {epoch}, batch {self.position + 1}") from None
        finally:
            batches.close()

    @property
    def evaluated(self) -> torch.nn.Module:
        """The model that validation, best.pt and the test score use: the weight average when --ema is on."""
        return self.ema.model if self.ema is not None else self.model

    def _accumulate(self, acc: EpochAccum, loss, out, yb) -> None:
        n = len(yb)
        detached = loss.detach()
        self.track.check_loss(acc, detached, self.global_step)
        self.global_step += 1
        acc.seen += n
        acc.loss_sum.add_(detached, alpha=n)
        acc.correct.add_((out.argmax(1) == yb).sum())

    def _poll(self, every_rank: bool = True) -> str | None:
        """should_stop's answer as a status: every rank agreeing (a collective), or this rank alone."""
        # time spent inside should_stop is a pause (labtui blocks there), not training time
        t = time.perf_counter()
        value = self.should_stop() if self.should_stop else None
        self.paused += time.perf_counter() - t
        return stop_status(value, self.dist) if every_rank else status_of(value)

    def _diverged(self, epoch: int) -> dict | None:
        """{epoch, step, ...} when the epoch saw a non-finite or exploding loss, else None."""
        return self.track.diverged(self.accum, epoch, self.global_step - self.position, self.dist)

    def end_epoch(self, epoch: int) -> None:
        """Reduce the epoch's sums, validate, step the schedule, track the best, checkpoint, report."""
        acc, dist = self.accum, self.dist
        seen_t = torch.tensor(float(acc.seen), device=self.device)
        loss_sum, correct, seen_t = dist.sum(acc.loss_sum.clone(), acc.correct.clone(), seen_t)
        seen = max(int(seen_t.item()), 1)
        # validation runs at the training precision (it only ranks epochs); the reported test score is fp32
        with self.timings.phase("validation"), autocast(self.precision, self.device):
            val_loss, val_acc, confusion = loss_acc_confusion(self.evaluated, self.monitored, self.data.num_classes,
                                                              progress=self._progress("validating", epoch))
        lr = self.schedule.lrs(max(self.global_step - 1, 0))[0]  # what the epoch's last step used
        self.schedule.end_epoch(val_loss)
        event = EpochEnded(epoch, self.cfg.epochs, (loss_sum / seen).item(), correct.item() / seen, val_loss,
                           val_acc, lr, acc.seconds, confusion, False, self.history.monitor)
        improved = self.track.observe(event.row(), self.evaluated)  # best.pt and --patience alike
        if improved:
            self.history.best_epoch, self.history.best_val_acc = epoch, val_acc
            event = replace(event, best=True)
        self.history.rows.append(event.row())
        self.epoch, self.perm, self.position, self.accum = epoch, None, 0, None
        self.emit(PhaseChanged("saving", epoch=epoch))
        self._checkpoint(best=improved)  # saved before the row it backs
        self.emit(event)
        if is_points(self.data.input_shape) and self.dist.is_main:
            self.emit(BoundaryReady(epoch, self._boundary(epoch)))

    def _progress(self, phase: str, epoch: int | None = None, every_rank: bool = True) -> Callable[[int, int], None]:
        """A progress callback that reports `phase` as PhaseChanged events, at most every EVENT_INTERVAL, and
        raises Stopped when should_stop asks for a stop: a stop never waits for a whole evaluation. It polls
        before each batch but the first (an evaluation of one batch is over in a moment), the same number of
        times on every rank; `every_rank=False` (the test score, rank 0 alone) polls without the ranks' vote."""
        last = [-math.inf]
        epoch = self.epoch if epoch is None else epoch

        def report(done: int, total: int) -> None:
            if 0 < done < total:
                stop = self._poll(every_rank)
                if stop:
                    self.emit(PhaseChanged("cancelling", epoch=epoch))
                    raise Stopped(stop)
            now = time.monotonic()
            if now - last[0] >= EVENT_INTERVAL or done == total:
                last[0] = now
                self.emit(PhaseChanged(phase, done, total, epoch))
        return report

    def _test_score(self) -> dict:
        self.model.load_state_dict(self.track.best_state)
        scored = sample_split(self.data.test, self.cfg.eval_subset, self.cfg.seed)
        with self.timings.phase("test"):
            test_loss, test_acc, _, top5 = loss_acc_confusion(self.model, scored, self.data.num_classes, top5=True,
                                                              progress=self._progress("testing", every_rank=False))
        self.history.test_loss, self.history.test_acc = test_loss, test_acc
        test = {"loss": test_loss, "accuracy": test_acc, "epoch": self.history.best_epoch, "samples": len(scored)}
        if top5 is not None:
            test["top5"] = top5
        return test

    def _checkpoint(self, best: bool) -> None:
        with self.timings.phase("checkpoints"):
            self.emit(CheckpointReady(self.snapshot(), best=best))

    def _boundary(self, epoch: int) -> dict:
        from lab_workbench.engine.evaluation.boundary import decision_grid, points_of
        d = self.data
        shown = d.test if len(d.test) else d.train
        return decision_grid(self.evaluated, d.classes, d.mean, d.std, points_of(shown, d.mean, d.std),
                             shown.y.cpu().numpy(), epoch=epoch).to_dict()

    def _finish(self, status: str, error: str = "", diverged: dict | None = None, evaluate: bool = True) -> History:
        """Evaluate the best weights on the test split (for a run that ended, not one that was stopped: a
        stop is quick) and report the end of the run. A stop during the test score makes the run
        `interrupted` (or `cancelled`): every epoch is saved, and a resume scores it."""
        test = {}
        if evaluate and status not in STOPPED and self.dist.is_main and self.track.best_state is not None \
                and len(self.data.test):
            try:
                test = self._test_score()
            except Stopped as s:
                status = s.status
        self.history.status = status
        with self.timings.phase("checkpoints"):  # the last checkpoint's writing overlapped the test
            self.flush()
        self.emit(RunEnded(status, self.history, test, error, diverged, self.timings.to_dict()))
        return self.history


def uses_channels_last(model: torch.nn.Module) -> bool:
    """NHWC for conv nets with batch norm: measured 1.3-2.2x faster epochs there on CPU (cnn, fastcnn), but
    1.16x slower for convnet, whose convolutions feed ReLU and a large linear layer directly (bench/README.md)."""
    kinds = {type(m) for m in model.modules()}
    return torch.nn.Conv2d in kinds and torch.nn.BatchNorm2d in kinds
