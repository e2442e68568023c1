"""TensorBoard (`pip install 'lab-workbench[tensorboard]'`): event files under RUN/tb/ with the per-epoch metrics and
lr, the config as hyperparameters and the final confusion matrix as an image."""

from __future__ import annotations

from pathlib import Path

from lab_workbench.engine.trackers import register_tracker

SCALARS = ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")


def confusion_image(matrix: list[list[int]], cell: int = 16):
    """An HxWx3 uint8 picture of a confusion matrix: each row scaled by its count (white 0, dark blue all),
    diagonal cells green; `cell` pixels a cell."""
    import numpy as np  # here: listing the trackers (--help, a bad --log-to) needs no numpy
    m = np.asarray(matrix, dtype=np.float64)
    share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    rgb = np.empty(m.shape + (3,))
    rgb[..., 0] = rgb[..., 1] = rgb[..., 2] = 1 - share
    eye = np.eye(len(m), dtype=bool)
    rgb[..., 2][~eye] = 1.0  # wrong predictions in blue tones, right ones in green
    rgb[..., 1][eye] = 1.0
    return np.repeat(np.repeat((rgb * 255).astype(np.uint8), cell, axis=0), cell, axis=1)


def hparams(config: dict) -> dict:
    """The config as TensorBoard takes hyperparameters: numbers, text and booleans (lists as text)."""
    out = {}
    for key, value in config.items():
        if isinstance(value, (bool, int, float, str)):
            out[key] = value
        elif value is not None:
            out[key] = str(value)
    return out


@register_tracker("tensorboard", "TensorBoard event files under RUN/tb/ (pip install 'lab-workbench[tensorboard]')")
class TensorBoardTracker:
    """Writes RUN/tb/events.out.tfevents.*; a resumed run adds a file to the same folder, steps = epochs."""

    def __init__(self, cfg, run_dir: Path, record: dict):
        from lab_workbench.engine.runs.folder import RunFolder
        self.dir, self.writer, self.confusion, self.config = RunFolder(run_dir).tb_dir, None, None, {}
        self.record = {"log_dir": str(self.dir)}

    @staticmethod
    def problem(cfg) -> str | None:
        try:
            import tensorboard  # noqa: F401  (SummaryWriter needs it)
            from torch.utils.tensorboard import SummaryWriter  # noqa: F401
        except ImportError:
            return "tensorboard is not installed (pip install 'lab-workbench[tensorboard]')"
        return None

    def __call__(self, event) -> None:
        from lab_workbench.engine.contract.events import EpochEnded, RunEnded, RunStarted
        if isinstance(event, RunStarted):
            from torch.utils.tensorboard import SummaryWriter

            from lab_workbench.engine.core.files import safe_folder
            safe_folder(self.dir, f"{self.dir}")  # a tb/ that links elsewhere would take the event files
            self.writer, self.config = SummaryWriter(log_dir=str(self.dir)), event.config
        elif isinstance(event, EpochEnded) and self.writer is not None:
            for key in SCALARS:
                self.writer.add_scalar(key, getattr(event, key), event.epoch)
            self.confusion = event.confusion
            self.writer.flush()
        elif isinstance(event, RunEnded) and self.writer is not None:
            self._end(event)

    def _end(self, event) -> None:
        from torch.utils.tensorboard.summary import hparams as hp
        h = event.history
        metrics = {"hparam/best_val_acc": h.best_val_acc if h.best_val_acc is not None else float("nan")}
        for key, value in (event.test or {}).items():
            if isinstance(value, (int, float)):
                metrics[f"hparam/test_{key}"] = float(value)
        for summary in hp(hparams(self.config), metrics):  # exp, session start and session end
            self.writer.file_writer.add_summary(summary)
        step = len(h.rows)
        for key, value in metrics.items():
            self.writer.add_scalar(key, value, step)
        if self.confusion:
            self.writer.add_image("confusion", confusion_image(self.confusion), step, dataformats="HWC")
        self.writer.close()
        self.writer = None
