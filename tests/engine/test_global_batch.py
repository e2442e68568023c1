"""Process counts: --batch-size is the run's global batch, shared among the processes; checkpoints from before
it was (per process, no world_size) resume with the global batch they trained with; a lost process is one
line. The multi-process runs themselves are in tests/commands/test_process_count.py."""

import json
from functools import partial

import pytest
import torch

from lab_workbench.engine import train
from lab_workbench.engine.core.errors import CheckpointError, ConfigError
from lab_workbench.engine.runs.checkpoint import load_checkpoint, save_checkpoint
from lab_workbench.engine.training.distributed import per_process_batch
from lab_workbench.engine.contract.events import RunStarted
from lab_workbench.engine.training.trainer import resume_config
from tests import helpers
from tests.engine.test_data_scale import chunked_h5
from tests.engine.test_resume import stop_at

cfg = partial(helpers.cfg, subset=300, model="mlp", hidden=[16], threads=1, precision="fp32")


def rewrite(path, **changes) -> None:
    """last.pt as an older lab or another process count wrote it (None removes a key)."""
    state = load_checkpoint(path)
    state.update(changes)
    save_checkpoint(path, {k: v for k, v in state.items() if v is not None})


def test_the_processes_share_the_global_batch_or_it_is_one_clear_error():
    assert per_process_batch(64, 1) == 64 and per_process_batch(64, 4) == 16
    with pytest.raises(ConfigError, match=r"^--batch-size 30: the global batch must split evenly among the 4 "
                                          r"processes; use a multiple of 4 \(e.g. 28\)$"):
        per_process_batch(30, 4)


def test_a_checkpoint_from_per_process_batches_resumes_with_its_global_batch(tmp_path):
    run_dir = train(cfg(tmp_path, epochs=1, name="old")).run_dir
    last = f"{run_dir}/last.pt"
    assert load_checkpoint(last)["world_size"] == 1
    # what a 2-process run with --batch-size 32 left before the batch was global: one RNG state per rank
    rewrite(last, world_size=None, rank_rng=[torch.get_rng_state()] * 2)
    events = []
    c, run_dir = resume_config(run_dir, runs_dir=str(tmp_path / "runs"), epochs=2)
    assert c.batch_size == 32
    assert train(c, on_event=events.append, resume=run_dir).status == "completed"
    notes = next(e for e in events if isinstance(e, RunStarted)).notes
    assert notes[:2] == ("--batch-size 32 was per process then: the run's global batch is 64",
                         "1 process x batch 64 (global 64), the run trained on 2 until now")
    assert json.loads((run_dir / "config.json").read_text())["config"]["batch_size"] == 64
    assert load_checkpoint(last)["world_size"] == 1


def test_a_streamed_run_stopped_mid_epoch_resumes_only_on_as_many_processes(tmp_path):
    path = chunked_h5(tmp_path / "s.h5", n=400)
    stopped = train(cfg(tmp_path, subset=None, data=path, data_memory="40K", name="s"), should_stop=stop_at(5))
    last = f"{stopped.run_dir}/last.pt"
    assert load_checkpoint(last)["epoch_step"] == 4
    rewrite(last, world_size=2)  # each of 2 ranks read its own stretch of the epoch's order
    c, run_dir = resume_config(stopped.run_dir, runs_dir=str(tmp_path / "runs"))
    with pytest.raises(ConfigError, match=r"stopped mid-epoch on 2 process\(es\), each reading its own stretch"):
        train(c, resume=run_dir)


def test_a_world_size_that_is_no_count_is_one_line_naming_the_checkpoint(tmp_path):
    run_dir = train(cfg(tmp_path, epochs=1, name="w")).run_dir
    rewrite(f"{run_dir}/last.pt", world_size="two")
    c, run_dir = resume_config(run_dir, runs_dir=str(tmp_path / "runs"), epochs=2)
    with pytest.raises(CheckpointError, match=r"last\.pt: world_size: expected an integer >= 0, got 'two'$"):
        train(c, resume=run_dir)


def test_a_collective_that_lost_its_peer_is_one_line_and_a_bug_stays_a_traceback():
    from lab_workbench.engine.training.distributed import PeerLost, peer_lost
    gone = RuntimeError("[../gloo/transport/tcp/pair.cc:545] Read error [127.0.0.1]:9104: Connection reset by peer")
    lost = peer_lost(gone, 1)
    assert isinstance(lost, PeerLost) and str(lost).startswith("rank 1: another process of this run has ended "
                                                               "(Connection reset by peer)")
    assert peer_lost(RuntimeError("mat1 and mat2 shapes cannot be multiplied"), 0) is None
    assert peer_lost(ValueError("Connection reset by peer"), 0) is None


def test_a_restarted_torchrun_group_meets_in_keys_of_its_own_try():
    # torchrun keeps one store across restarts: keys the dead group left must not be read by the new one
    from datetime import timedelta
    import torch.distributed as torch_dist
    from lab_workbench.engine.training.distributed import restart_store
    server = torch_dist.TCPStore("127.0.0.1", 0, 1, is_master=True, timeout=timedelta(seconds=10))
    env = {"TORCHELASTIC_RESTART_COUNT": "1", "TORCHELASTIC_USE_AGENT_STORE": "True", "MASTER_ADDR": "127.0.0.1",
           "MASTER_PORT": str(server.port)}
    server.set("rank_1", "address of the dead try")
    store = restart_store(2, env)
    store.set("rank_1", "address of this try")
    assert server.get("lab/try_1/rank_1") == b"address of this try"
    assert server.get("rank_1") == b"address of the dead try"
    assert restart_store(2, {**env, "TORCHELASTIC_RESTART_COUNT": "0"}) is None  # a first try: torch's own store
    assert restart_store(2, {}) is None
