"""--monitor val_acc|val_loss|train_loss chooses best.pt and early stopping alike (ties: the lower loss)."""

import functools
import json

import pytest
import torch

from lab_workbench.engine import train
from lab_workbench.engine.core.errors import ConfigError
from tests.helpers import cfg

# three blobs, a tiny MLP: val_acc stays at 0.4167 for epochs 3-5 while val_loss goes on falling
blobs = functools.partial(cfg, dataset="blobs", samples=300, epochs=5, hidden=[8], precision="fp32", device="cpu",
                          subset=None, batch_size=64)


def _best_pt_epoch(run_dir) -> int:
    return torch.load(f"{run_dir}/best.pt", map_location="cpu", weights_only=True)["epoch"]


def test_val_acc_ties_go_to_the_lower_loss(tmp_path):
    h = train(blobs(tmp_path))
    accs = [r["val_acc"] for r in h.rows]
    top = max(accs)
    assert accs.count(top) > 1, "the data must give a tie for this test to mean anything"
    tied = [r for r in h.rows if r["val_acc"] == top]
    want = min(tied, key=lambda r: r["val_loss"])["epoch"]
    assert want != tied[0]["epoch"]  # the old rule (first of equals) would pick another epoch
    assert h.best_epoch == want == _best_pt_epoch(h.run_dir)
    saved = json.loads((tmp_path / "runs" / h.run_dir.split("/")[-1] / "results.json").read_text())
    assert saved["best_epoch"] == want


@pytest.mark.parametrize("monitor", ["val_loss", "train_loss"])
def test_loss_monitors_pick_the_lowest_loss(tmp_path, monitor):
    h = train(blobs(tmp_path, monitor=monitor, lr=0.3, optimizer="sgd", scheduler="none"))
    want = min(h.rows, key=lambda r: r[monitor])["epoch"]
    assert h.best_epoch == want == _best_pt_epoch(h.run_dir)
    config = json.loads(open(f"{h.run_dir}/config.json").read())["config"]
    assert config["monitor"] == monitor


@pytest.mark.parametrize("monitor", ["val_acc", "val_loss", "train_loss"])
def test_early_stopping_watches_the_monitor(tmp_path, monitor):
    # a large lr makes the metrics bounce: the run stops `patience` epochs after the monitor's best
    h = train(cfg(tmp_path, epochs=30, patience=2, lr=0.5, optimizer="sgd", scheduler="none", monitor=monitor))
    if h.status == "early-stopped":
        assert len(h.rows) == h.best_epoch + 2
    else:
        assert h.status == "completed" and h.best_epoch >= len(h.rows) - 1
    want = min(h.rows, key=lambda r: (-r["val_acc"], r["val_loss"]) if monitor == "val_acc"
               else (r[monitor], -r["val_acc"] if monitor == "val_loss" else r["val_loss"]))
    assert h.best_epoch == want["epoch"]


def test_unknown_monitor_is_refused():
    from lab_workbench.engine.settings.config import TrainConfig
    with pytest.raises(ConfigError, match="--monitor: expected one of val_acc, val_loss, train_loss"):
        TrainConfig(monitor="acc").validate()


def test_best_row_follows_the_monitor():
    from lab_workbench.engine.contract.events import best_row
    rows = [{"epoch": 1, "train_loss": 0.5, "val_loss": 0.47, "val_acc": 0.9667},
            {"epoch": 2, "train_loss": 0.2, "val_loss": 0.044, "val_acc": 0.9667},
            {"epoch": 3, "train_loss": 0.1, "val_loss": 0.05, "val_acc": 0.9}]
    assert best_row(rows)["epoch"] == 2
    assert best_row(rows, "val_loss")["epoch"] == 2
    assert best_row(rows, "train_loss")["epoch"] == 3


def test_lab_runs_shows_the_monitor(tmp_path):
    from tests.helpers import lab_here
    r = lab_here("train", "-e", "1", "--subset", "100", "-H", "8", "--monitor", "val_loss", "--name", "m", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "runs" / "m" / "config.json").read_text())["config"]["monitor"] == "val_loss"
    listing = json.loads(lab_here("runs", "--json", cwd=tmp_path).stdout)
    assert listing[0]["monitor"] == "val_loss"
    import os
    os.environ["COLUMNS"] = "200"
    try:
        text = lab_here("runs", cwd=tmp_path).stdout
    finally:
        del os.environ["COLUMNS"]
    assert "picked by" in text.splitlines()[0] and "val_loss" in text.splitlines()[2]
    bad = lab_here("train", "--monitor", "acc", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith("error: --monitor: expected one of val_acc, val_loss")
