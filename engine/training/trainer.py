"""The training loop: batches sliced from device tensors, typed events out, a run folder on disk."""

from __future__ import annotations

import math
import time
import traceback
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from ..config import TrainConfig, parse_augment
from ..data import Dataset, load_dataset
from ..device import resolve_device
from ..evaluation import loss_acc_confusion
from ..models import create_model, model_options
from .augment import augment
from .checkpoint import load_checkpoint, save_checkpoint
from .distributed import Distributed
from .events import BatchEnded, EpochEnded, History, RunEnded, RunStarted
from .optim import make_optimizer, make_scheduler, penalty, penalty_params, steps_per_batch
from .runs import MetricsWriter, create_run_dir, default_run_name, read_json, resolve_run, write_json

EVENT_INTERVAL = 0.25  # seconds between BatchEnded events: each one costs a device sync


def resume_config(run: str | Path, runs_dir: str | Path = "runs", **overrides) -> tuple[TrainConfig, Path]:
    """The saved TrainConfig of a run folder (or 'latest'), with some fields overridden."""
    run_dir = resolve_run(run, runs_dir)
    cfg = TrainConfig.from_dict(read_json(run_dir / "config.json")["config"])
    return cfg.replace(**{k: v for k, v in overrides.items() if v is not None}), run_dir


def _rng_state(gen: torch.Generator) -> dict:
    state = {"torch": torch.get_rng_state(), "generator": gen.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(gen: torch.Generator, state: dict) -> None:
    torch.set_rng_state(state["torch"])
    gen.set_state(state["generator"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def build_model(cfg: TrainConfig, data: Dataset, device: torch.device) -> torch.nn.Module:
    """The model a config names, sized for the data set, on the device."""
    return create_model(cfg.model, data.input_shape, data.num_classes, **model_options(cfg)).to(device)


def train(cfg: TrainConfig, on_event: Callable | None = None, should_stop: Callable | None = None,
          resume: str | Path | None = None, dataset: Dataset | None = None) -> History:
    """Train per `cfg`, reporting events to `on_event`; returns the History.

    `should_stop()` is polled between batches: a truthy value stops the run, and a string gives the status
    ('cancelled' by default, 'interrupted' for signals). `resume` is a run folder to continue from last.pt.
    """
    cfg.validate()
    dist = Distributed(resolve_device(cfg.device))
    try:
        return _train(cfg, on_event, should_stop, resume, dataset, dist)
    finally:
        dist.close()


def _train(cfg, on_event, should_stop, resume, dataset, dist: Distributed) -> History:
    device = dist.device
    main = dist.is_main  # only rank 0 reports, writes files and evaluates the test split
    emit = on_event if (on_event and main) else (lambda event: None)
    state = None
    if resume is not None:
        run_dir = resolve_run(resume, cfg.runs_dir)
        state = load_checkpoint(run_dir / "last.pt", map_location=device)
    torch.manual_seed(cfg.seed)
    stats = (state["data"]["mean"], state["data"]["std"]) if state else None
    data = dataset or load_dataset(cfg, device, stats=stats)
    model = build_model(cfg, data, device)
    opt = make_optimizer(model, cfg)
    steps = max(1, math.ceil(len(dist.shard(torch.arange(len(data.train)))) / cfg.batch_size))
    sched = make_scheduler(opt, cfg, steps)
    gen = torch.Generator().manual_seed(cfg.seed)
    history = History()
    start_epoch, best_acc, best_loss, bad_epochs, global_step = 1, -1.0, math.inf, 0, 0
    if state:
        model.load_state_dict(state["model_state_dict"])
        opt.load_state_dict(state["optimizer_state_dict"])
        if sched is not None and state.get("scheduler_state_dict"):
            sched.load_state_dict(state["scheduler_state_dict"])
            # a resume may ask for more epochs: stretch the schedules that depend on the run's length
            if cfg.scheduler == "onecycle":
                sched.total_steps = steps * cfg.epochs
            elif cfg.scheduler == "cosine":
                sched.T_max = cfg.epochs
        if cfg.lr != state["config"].get("lr", cfg.lr):  # an explicit --lr on resume wins over the saved one
            for group in opt.param_groups:
                group["lr"] = group["initial_lr"] = cfg.lr
        _set_rng_state(gen, state["rng"])
        history = History.from_dict(state["history"])
        start_epoch = state["epoch"] + 1
        best_acc, best_loss = state["best_accuracy"], state.get("best_val_loss", math.inf)
        bad_epochs, global_step = state.get("bad_epochs", 0), state.get("step", 0)
    elif main:
        run_dir = create_run_dir(cfg.runs_dir, cfg.name or default_run_name(cfg.source, cfg.model))
        write_json(run_dir / "config.json", {"config": cfg.to_dict(), "data": data.facts,
                                             "device": str(device), "world_size": dist.world,
                                             "torch": torch.__version__})
    else:
        run_dir = None
    run_dir = Path(dist.broadcast(str(run_dir)))
    history.run_dir = str(run_dir)
    history.status = "running"
    if main:
        metrics = MetricsWriter(run_dir / "metrics.csv", keep_epochs=start_epoch - 1 if state else None)
    n_params = sum(p.numel() for p in model.parameters())
    emit(RunStarted(cfg.to_dict(), str(run_dir), n_params, str(device), data.facts, start_epoch))

    def checkpoint(epoch: int) -> dict:
        return {"model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(),
                "scheduler_state_dict": sched.state_dict() if sched is not None else {},
                "epoch": epoch, "best_accuracy": best_acc, "best_val_loss": best_loss,
                "best_epoch": history.best_epoch, "bad_epochs": bad_epochs, "step": global_step,
                "config": cfg.to_dict(), "data": data.facts, "history": history.to_dict(), "rng": _rng_state(gen)}

    status, epoch = "completed", start_epoch - 1
    weights = penalty_params(model)
    kinds = parse_augment(cfg.augment)
    x, y = data.train.x, data.train.y
    net = dist.wrap(model)
    monitor = data.val if len(data.val) else data.train
    try:
        for epoch in range(start_epoch, cfg.epochs + 1):
            t0 = time.perf_counter()
            model.train()
            perm = dist.shard(torch.randperm(len(y), generator=gen)).to(device)
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), device=device, dtype=torch.long)
            seen, last_emit, stop = 0, time.monotonic(), None
            for step in range(steps):
                stop = dist.stop(should_stop() if should_stop else None)
                if stop:
                    break
                idx = perm[step * cfg.batch_size:(step + 1) * cfg.batch_size]
                if len(idx) < 2 and seen:  # a batch of one breaks batchnorm; it is dropped
                    continue
                xb, yb = augment(x[idx], kinds, gen), y[idx]
                out = net(xb)
                loss = F.cross_entropy(out, yb)
                total = loss + penalty(weights, cfg.l1, cfg.l2)
                opt.zero_grad(set_to_none=True)
                total.backward()
                opt.step()
                if sched is not None and steps_per_batch(cfg):
                    sched.step()
                global_step += 1
                seen += len(idx)
                loss_sum += loss.detach() * len(idx)
                correct += (out.argmax(1) == yb).sum()
                now = time.monotonic()
                if now - last_emit >= EVENT_INTERVAL or step == steps - 1:
                    last_emit = now
                    emit(BatchEnded(epoch, step + 1, steps, loss.item()))
            if stop:
                status = stop if isinstance(stop, str) else "cancelled"
                epoch -= 1  # the interrupted epoch did not complete
                break
            seen_t = torch.tensor(float(seen), device=device)
            loss_sum, correct, seen_t = dist.sum(loss_sum, correct, seen_t)
            seen = max(int(seen_t.item()), 1)
            train_loss, train_acc = (loss_sum / seen).item(), correct.item() / seen
            if not math.isfinite(train_loss):
                status = "diverged"
                break
            val_loss, val_acc, confusion = loss_acc_confusion(model, monitor, data.num_classes)
            lr = opt.param_groups[0]["lr"]
            if sched is not None and not steps_per_batch(cfg):
                sched.step(val_loss) if cfg.scheduler == "plateau" else sched.step()
            improved = val_acc > best_acc
            if improved:
                best_acc, history.best_epoch, history.best_val_acc = val_acc, epoch, val_acc
            if val_loss < best_loss - 1e-6:
                best_loss, bad_epochs = val_loss, 0
            else:
                bad_epochs += 1
            row = {"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss,
                   "val_acc": val_acc, "lr": lr, "seconds": time.perf_counter() - t0}
            history.rows.append(row)
            if main:
                metrics.append(row)
                write_json(run_dir / "confusion.json", {"epoch": epoch, "split": "val" if len(data.val) else "train",
                                                        "classes": data.classes, "matrix": confusion})
                ckpt = checkpoint(epoch)
                if improved:
                    save_checkpoint(run_dir / "best.pt", ckpt)
                save_checkpoint(run_dir / "last.pt", ckpt)
            emit(EpochEnded(epochs=cfg.epochs, confusion=confusion, best=improved, **row))
            if cfg.patience and bad_epochs >= cfg.patience and epoch < cfg.epochs:
                status = "early-stopped"
                break
    except BaseException as e:
        history.status = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
        if main:
            _finish(run_dir, cfg, data, history, {}, error="".join(traceback.format_exception_only(e)).strip())
        raise
    history.status = status
    if not main:
        return history
    if status in ("cancelled", "interrupted", "diverged"):
        save_checkpoint(run_dir / "last.pt", checkpoint(max(epoch, start_epoch - 1)))
    test = {}
    if (run_dir / "best.pt").is_file() and len(data.test):
        best = load_checkpoint(run_dir / "best.pt", map_location=device)
        model.load_state_dict(best["model_state_dict"])
        test_loss, test_acc, _ = loss_acc_confusion(model, data.test, data.num_classes)
        history.test_loss, history.test_acc = test_loss, test_acc
        test = {"loss": test_loss, "accuracy": test_acc, "epoch": best["epoch"]}
    _finish(run_dir, cfg, data, history, test)
    emit(RunEnded(status, history, test))
    return history


def _finish(run_dir: Path, cfg: TrainConfig, data: Dataset, history: History, test: dict, error: str = "") -> None:
    results = {"status": history.status, "config": cfg.to_dict(), "data": data.facts,
               "best_epoch": history.best_epoch, "best_val_acc": history.best_val_acc,
               "epochs_completed": len(history.rows), "history": history.rows, "test": test}
    if error:
        results["error"] = error
    write_json(run_dir / "results.json", results)
