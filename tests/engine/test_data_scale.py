"""Data at scale: uint8 resident with per-batch normalisation, streaming from HDF5 with exact resume,
each rank reading its own share, and a file that breaks mid-run."""

import json
import os
from functools import partial

import h5py
import numpy as np
import pytest
import torch

from tests import helpers
from tests.helpers import make_images
from lab_workbench.engine import TrainConfig, train
from lab_workbench.engine.data import build_dataset, load_dataset
from lab_workbench.engine.data.dataset import to_nchw
from lab_workbench.engine.data.sources import RawData
from lab_workbench.engine.data.stream import H5Rows, stream_order
from lab_workbench.engine.runs.checkpoint import load_checkpoint
from lab_workbench.engine.training.distributed import Distributed
from lab_workbench.engine.training.trainer import resume_config


def chunked_h5(path, n=1200, seed=0, chunk=40):
    """A streamable file: 3x8x8 uint8 images in small gzip chunks, so that a small budget means many blocks."""
    images, labels = make_images(n, c=3, classes=4, seed=seed)
    with h5py.File(path, "w") as f:
        f.create_dataset("images", data=images, chunks=(chunk, 8, 8, 3), compression="gzip")
        f.create_dataset("labels", data=labels)
    return path


cfg = partial(helpers.cfg, subset=None, model="mlp", hidden=[16], data_memory="40K", threads=1)


def stop_at(n, reason="interrupted", then=None):
    calls = {"n": 0}

    def should_stop():
        calls["n"] += 1
        if calls["n"] == n:
            if then is not None:
                then()
                return None
            return reason
        return None
    return should_stop


def same_weights(a_dir, b_dir):
    a, b = load_checkpoint(os.path.join(a_dir, "last.pt")), load_checkpoint(os.path.join(b_dir, "last.pt"))
    return all(torch.equal(v, b["model_state_dict"][k]) for k, v in a["model_state_dict"].items())


def test_uint8_resident_batches_equal_the_float_copy_normalisation():
    images, labels = make_images(300, c=3, classes=3)
    raw = RawData("t", ["a", "b", "c"], images, labels)
    ds = build_dataset(raw, val_split=0.2, seed=3)
    assert ds.train.store.dtype == torch.uint8 and ds.train.store.data_ptr() == ds.val.store.data_ptr()
    assert ds.train.store.data_ptr() == ds.test.store.data_ptr()  # carved test split: indices, not a copy
    # what build_dataset did before: a float copy scaled by 255, float32 stats, then (x - mean) / std
    rows = ds.train.rows.numpy()
    x = torch.from_numpy(np.ascontiguousarray(to_nchw(images[rows]))).float().div_(255.0)
    assert np.allclose(ds.mean, x.mean(dim=(0, 2, 3)).tolist(), atol=1e-6)
    assert np.allclose(ds.std, x.std(dim=(0, 2, 3)).tolist(), atol=1e-5)
    old = (x - torch.tensor(ds.mean).view(1, -1, 1, 1)) / torch.tensor(ds.std).view(1, -1, 1, 1)
    idx = torch.tensor([5, 0, 17, 3])
    assert torch.equal(ds.train.take(idx), old[idx])  # bitwise the same normalised batch
    assert torch.equal(ds.train.x, old)


def test_classes_and_subset_are_row_indices(tiny_h5):
    ds = load_dataset(TrainConfig(data=str(tiny_h5), classes=[2, 0], val_split=0.0, subset=50))
    with h5py.File(tiny_h5) as f:
        y = f["labels"][()]
    assert len(ds.train) == 50 and set(ds.train.y.tolist()) <= {0, 1}
    assert np.array_equal(np.where(y[ds.train.rows.numpy()] == 2, 0, 1), ds.train.y.numpy())
    assert ds.facts["held"].endswith("uint8 in memory") and ds.facts["load_seconds"] >= 0


def test_a_streamed_split_gives_the_resident_batches(tmp_path):
    path = chunked_h5(tmp_path / "s.h5")
    resident = load_dataset(TrainConfig(data=str(path), seed=1))
    streamed = load_dataset(TrainConfig(data=str(path), seed=1, data_memory="40K"))
    assert streamed.train.streamed and not resident.train.streamed
    assert streamed.facts["held"] == f"streamed from {path}"
    assert streamed.mean == resident.mean and streamed.std == resident.std
    idx = torch.tensor([7, 1, 200, 64])
    assert torch.equal(streamed.train.take(idx), resident.train.take(idx))
    assert torch.equal(streamed.test.x, resident.test.x)


def test_stream_order_is_blocks_then_rows_within_a_window():
    rows = torch.arange(0, 1000, 2)  # every other row of a 1000-row file, blocks of 100 rows
    order = stream_order(rows, 100, 2, torch.Generator().manual_seed(0))
    assert sorted(order.tolist()) == list(range(500))
    blocks = (rows[order] // 100).view(-1, 100)  # each window of 2 blocks = 100 positions here
    assert all(len(set(w.tolist())) == 2 for w in blocks)
    again = stream_order(rows, 100, 2, torch.Generator().manual_seed(0))
    assert torch.equal(order, again)


def test_forced_stream_trains_and_resumes_bitwise_after_a_stop_mid_epoch(tmp_path):
    path = chunked_h5(tmp_path / "s.h5")
    whole = train(cfg(tmp_path, path, name="whole", augment="flip"))
    assert whole.status == "completed" and whole.test_acc > 0.5
    results = json.loads(open(os.path.join(whole.run_dir, "results.json")).read())
    assert results["data"]["held"].startswith("streamed from") and results["load_seconds"] >= 0
    stopped = train(cfg(tmp_path, path, name="part", augment="flip"), should_stop=stop_at(40))
    assert stopped.status == "interrupted"
    c, run_dir = resume_config(stopped.run_dir, runs_dir=str(tmp_path / "runs"))
    assert load_checkpoint(run_dir / "last.pt")["epoch_step"] > 0
    resumed = train(c, resume=run_dir)
    assert resumed.status == "completed" and same_weights(whole.run_dir, run_dir)


def test_each_rank_reads_only_its_share_of_a_streamed_epoch(tmp_path, monkeypatch):
    path = chunked_h5(tmp_path / "s.h5", n=2000)
    ds = load_dataset(TrainConfig(data=str(path), data_memory="40K", val_split=0.0))
    store = ds.train.store
    order = stream_order(ds.train.rows, store.block, store.window, torch.Generator().manual_seed(0))
    read = {}
    real = H5Rows.read_block
    for rank in (0, 1):
        dist = Distributed.__new__(Distributed)
        dist.world, dist.rank, dist.active = 2, rank, True
        share = dist.shard(order, contiguous=True)
        seen = read.setdefault(rank, set())
        monkeypatch.setattr(H5Rows, "read_block", lambda self, b, seen=seen: seen.add(b) or real(self, b))
        from lab_workbench.engine.data.batches import EpochBatches
        with EpochBatches(ds.train, share, 32) as batches:
            got = sum(len(y) for _, _, y in batches)
        assert got == len(share) - (len(share) % 32 == 1)
    n_blocks = -(-len(store) // store.block)
    assert len(read[0] & read[1]) <= 2 and len(read[0]) < n_blocks and len(read[1]) < n_blocks


def test_a_file_truncated_mid_run_fails_with_one_line_and_resumes_exactly(tmp_path):
    path = chunked_h5(tmp_path / "s.h5")
    good = path.read_bytes()
    whole = train(cfg(tmp_path, path, name="whole"))

    def truncate():
        with open(path, "r+b") as f:
            f.truncate(len(good) // 3)
    with pytest.raises(Exception) as err:
        train(cfg(tmp_path, path, name="cut"), should_stop=stop_at(45, then=truncate))
    message = str(err.value)
    assert str(path) in message and "epoch 2, batch" in message and "\n" not in message
    run_dir = tmp_path / "runs" / "cut"
    assert json.loads((run_dir / "results.json").read_text())["status"] == "failed"
    assert load_checkpoint(run_dir / "last.pt")["epoch"] >= 1
    path.write_bytes(good)
    c, run_dir = resume_config(run_dir, runs_dir=str(tmp_path / "runs"))
    resumed = train(c, resume=run_dir)
    assert resumed.status == "completed" and same_weights(whole.run_dir, run_dir)


@pytest.mark.slow
def test_torchrun_two_gloo_ranks_stream_one_run(tmp_path):
    import subprocess
    import sys
    from tests.helpers import ROOT
    path = chunked_h5(tmp_path / "s.h5")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "lab_workbench.commands",
           "train", "--data", str(path), "--data-memory", "40K", "--epochs", "2", "--name", "ddp", "--threads", "1"]
    r = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"data: streamed from {path}, device" in r.stdout.splitlines()[0]
    results = json.loads((tmp_path / "runs" / "ddp" / "results.json").read_text())
    assert results["status"] == "completed" and results["test"]["accuracy"] > 0.5


def test_a_resume_streams_as_the_run_did_whatever_the_budget_now(tmp_path):
    path = chunked_h5(tmp_path / "s.h5")
    whole = train(cfg(tmp_path, path, name="whole", epochs=3))
    stopped = train(cfg(tmp_path, path, name="part", epochs=3), should_stop=stop_at(40))
    c, run_dir = resume_config(stopped.run_dir, runs_dir=str(tmp_path / "runs"), data_memory="1G")
    assert train(c, resume=run_dir).status == "completed" and same_weights(whole.run_dir, run_dir)
