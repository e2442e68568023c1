"""--monitor: the metric that picks best.pt and that --patience watches, one rule for both.

val_acc ties (common on small validation splits) are broken by the lower val_loss; the loss monitors break
their ties by the higher val_acc (val_loss) or the lower val_loss (train_loss). Losses within LOSS_DELTA of
each other count as equal, so that float noise neither moves best.pt nor resets --patience.
"""

from __future__ import annotations

MONITORS = ("val_acc", "val_loss", "train_loss")  # the choices of --monitor (engine.settings.config declares the flag)

LOSS_DELTA = 1e-6
# the metrics compared in order; val_acc is better higher, the losses lower
_ORDER = {"val_acc": ("val_acc", "val_loss"), "val_loss": ("val_loss", "val_acc"),
          "train_loss": ("train_loss", "val_loss")}


def improves(monitor: str, row: dict, best: dict | None) -> bool:
    """Does this epoch's row beat the best row so far under `monitor`? A row without a finite value of the
    monitored metric never does."""
    key = _ORDER[monitor][0]
    value = row.get(key)
    if not isinstance(value, (int, float)) or value != value or abs(value) == float("inf"):
        return False
    if best is None:
        return True
    for key in _ORDER[monitor]:
        new, old = row.get(key), best.get(key)
        if not isinstance(new, (int, float)) or not isinstance(old, (int, float)) or new != new or old != old:
            return False
        if key == "val_acc" and new != old:
            return new > old
        if key != "val_acc" and abs(new - old) > LOSS_DELTA:
            return new < old
    return False
