"""A deterministic stand-in for engine.train: fixed events, no disk, no clock."""

from lab_workbench.engine.contract.events import EpochEnded, History, RunEnded, RunStarted

CLASSES = ["cat", "dog", "bird"]
ROWS = [
    (1, 1.05, 0.52, 0.98, 0.55, [[20, 8, 2], [9, 18, 3], [4, 5, 21]]),
    (2, 0.71, 0.70, 0.69, 0.71, [[24, 5, 1], [5, 22, 3], [2, 3, 25]]),
    (3, 0.48, 0.82, 0.55, 0.79, [[26, 3, 1], [3, 25, 2], [1, 2, 27]]),
]


def fake_train(cfg, on_event=None, should_stop=None, **_):
    emit = on_event or (lambda e: None)
    history = History(run_dir="runs/demo")
    emit(RunStarted(cfg.to_dict(), "runs/demo", 12345, "cpu",
                    {"source": "pets", "classes": CLASSES, "input_shape": [1, 8, 8]}))
    best = -1
    for epoch, tl, ta, vl, va, cm in ROWS[: cfg.epochs]:
        row = {"epoch": epoch, "train_loss": tl, "train_acc": ta, "val_loss": vl, "val_acc": va, "lr": 1e-3,
               "seconds": 1.5}
        history.rows.append(row)
        emit(EpochEnded(epochs=cfg.epochs, confusion=cm, best=va > best, **row))
        best = max(best, va)
    history.status, history.best_epoch, history.best_val_acc = "completed", len(history.rows), best
    emit(RunEnded("completed", history, {"loss": 0.5, "accuracy": 0.8}))
    return history
