"""Precision, threads, recipes and the training extras (label smoothing, clipping, warm-up, EMA, top-5)."""

import json
import os
import subprocess
import sys
import time
from functools import partial

import pytest
import torch

from lab_workbench.engine import train
from lab_workbench.engine.settings.config import config_from_text
from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.models.catalog import builtin_entries
from lab_workbench.engine.runtime.precision import resolve_precision
from lab_workbench.engine.runtime.threads import available_cpus, configure_threads, default_threads
from lab_workbench.engine.runs.checkpoint import load_checkpoint
from tests import helpers


# a constant lr: these runs are too short to anneal
cfg = partial(helpers.cfg, model="mlp", hidden=[32], precision="fp32", scheduler="none")


def test_auto_precision_follows_the_hardware(monkeypatch):
    import lab_workbench.engine.runtime.precision as p
    cpu = torch.device("cpu")
    monkeypatch.setattr(p, "cpu_has_native_bf16", lambda: True)
    assert resolve_precision("auto", cpu) == "bf16"
    monkeypatch.setattr(p, "cpu_has_native_bf16", lambda: False)
    assert resolve_precision("auto", cpu) == "fp32"  # emulated bf16 is ~5x slower than fp32
    assert resolve_precision("fp16", cpu) == "fp16"
    with pytest.raises(ConfigError, match="--precision"):
        resolve_precision("fp8", cpu)


@pytest.mark.parametrize("precision", ["bf16", "fp16", "fp32"])
def test_each_precision_trains_records_itself_and_evaluates_in_fp32(tmp_path, precision):
    h = train(cfg(tmp_path, precision=precision, epochs=3, subset=None))
    assert h.status == "completed" and h.test_acc > 0.9
    record = json.loads(open(os.path.join(h.run_dir, "config.json")).read())
    assert record["precision"] == precision and record["config"]["precision"] == precision
    ck = load_checkpoint(os.path.join(h.run_dir, "best.pt"))
    assert all(v.dtype == torch.float32 for v in ck["model_state_dict"].values() if v.is_floating_point())
    assert ck["scaler_state_dict"].get("scale") is not None if precision == "fp16" else True


def test_label_smoothing_raises_the_training_loss_of_the_same_run(tmp_path):
    plain = train(cfg(tmp_path, name="plain", lr=0.01, epochs=4))
    smooth = train(cfg(tmp_path, name="smooth", lr=0.01, epochs=4, label_smoothing=0.3))
    assert smooth.rows[-1]["train_loss"] > plain.rows[-1]["train_loss"] + 0.1


def test_gradient_clipping_bounds_each_step(tmp_path):
    from lab_workbench.engine.models import create_model

    def moved(**kw):
        h = train(cfg(tmp_path, epochs=1, optimizer="sgd", momentum=0.0, lr=0.5, **kw))
        torch.manual_seed(0)
        start = create_model("mlp", (1, 8, 8), 10, hidden=[32]).state_dict()
        end = load_checkpoint(os.path.join(h.run_dir, "last.pt"))["model_state_dict"]
        return torch.sqrt(sum(((end[k] - start[k]) ** 2).sum() for k in start)).item(), h
    free, _ = moved(name="free")
    clipped, h = moved(name="clipped", clip_grad=1e-3)
    steps = len(h.rows) * 12  # 360 training samples / 32
    assert clipped <= 0.5 * 1e-3 * steps * 1.001 < free


def test_warmup_ramps_the_lr_linearly_under_any_schedule(tmp_path, monkeypatch):
    from lab_workbench.engine.training.optim import eager
    seen, sgd = [], eager(torch.optim.SGD)  # the class lab's make_optimizer builds
    step = sgd.step

    def record(self, *a, **k):
        seen.append(self.param_groups[0]["lr"])
        return step(self, *a, **k)
    monkeypatch.setattr(sgd, "step", record)
    h = train(cfg(tmp_path, epochs=2, optimizer="sgd", lr=0.1, warmup=1.0, scheduler="step", step_size=1,
                  gamma=0.5))
    per_epoch = 12
    assert seen[:per_epoch] == pytest.approx([0.1 * (i + 1) / per_epoch for i in range(per_epoch)])
    assert seen[per_epoch:] == pytest.approx([0.05] * per_epoch)  # the schedule is untouched by the ramp
    assert [r["lr"] for r in h.rows] == pytest.approx([0.1, 0.05])


def test_ema_weights_are_what_is_evaluated_and_saved(tmp_path):
    from lab_workbench.engine.artifacts.loading import load_model
    from lab_workbench.engine.evaluation.metrics import loss_acc_confusion
    from lab_workbench.engine.data import load_dataset
    h = train(cfg(tmp_path, ema=0.9, epochs=3))
    best = load_checkpoint(os.path.join(h.run_dir, "best.pt"))
    raw, avg = best["raw_model_state_dict"], best["model_state_dict"]
    assert any(not torch.equal(raw[k], avg[k]) for k in raw)
    model = load_model(os.path.join(h.run_dir, "best.pt")).model
    data = load_dataset(cfg(tmp_path, ema=0.9), "cpu")
    _, acc, _ = loss_acc_confusion(model, data.test, data.num_classes)
    assert acc == pytest.approx(h.test_acc)


def test_top5_is_reported_for_more_than_five_classes_only(tmp_path):
    ten = train(cfg(tmp_path, name="ten"))
    two = train(cfg(tmp_path, name="two", classes=[3, 5]))
    r10 = json.loads(open(os.path.join(ten.run_dir, "results.json")).read())["test"]
    r2 = json.loads(open(os.path.join(two.run_dir, "results.json")).read())["test"]
    assert r10["accuracy"] <= r10["top5"] <= 1.0 and "top5" not in r2


def test_threads_follow_the_cores_the_process_may_use(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    monkeypatch.delenv("SLURM_NTASKS_PER_NODE", raising=False)
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "1")
    assert available_cpus() == 1 and default_threads() == 1
    monkeypatch.delenv("SLURM_CPUS_PER_TASK")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert available_cpus() == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)))
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")  # four ranks on this node share the cores
    from lab_workbench.engine.runtime import threads
    monkeypatch.setattr(threads, "idle_cpus", lambda: None)  # how busy this machine is now is another test's
    assert default_threads() == min(64, available_cpus()) // 4
    before = torch.get_num_threads()
    try:
        assert configure_threads(1) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_threads_flag_is_recorded(tmp_path):
    before = torch.get_num_threads()
    try:
        h = train(cfg(tmp_path, threads=1, epochs=1))
    finally:
        torch.set_num_threads(before)
    assert json.loads(open(os.path.join(h.run_dir, "config.json")).read())["threads"] == 1


def test_a_recipe_sets_values_and_given_flags_override_them():
    c = config_from_text({"recipe": "fast", "dataset": "mnist", "lr": "0.1"})
    assert (c.model, c.lr, c.epochs, c.recipe, c.augment) == ("fastcnn", 0.1, 1, "fast", "shift")
    with pytest.raises(ConfigError, match="--recipe fast: has values for mnist"):
        config_from_text({"recipe": "fast", "dataset": "digits"})
    with pytest.raises(ConfigError, match="--recipe: expected one of fast"):
        config_from_text({"recipe": "slow", "dataset": "mnist"})


def test_the_model_catalog_matches_the_registry():
    from lab_workbench.engine.models import list_models
    assert tuple((e.name, e.description) for e in list_models()) == builtin_entries()


@pytest.mark.parametrize("argv", [["--help"], ["models"], ["train", "--help"], ["runs"], ["train", "--recipe"]])
def test_light_commands_do_not_import_torch(tmp_path, argv):
    code = ("import sys; from lab_workbench.commands.app import main\n"
            "try: main(sys.argv[1:])\nexcept SystemExit: pass\n"
            "assert 'torch' not in sys.modules, 'torch imported'")
    r = subprocess.run([sys.executable, "-c", code, *argv], cwd=tmp_path, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert r.returncode == 0, r.stderr[-500:]


def test_metrics_reader_parses_only_what_was_appended(tmp_path):
    from lab_workbench.engine.runs import METRICS_HEADER, MetricsReader
    path = tmp_path / "metrics.csv"

    def rows(a, b):
        return "".join(f"{i},1,0.5,1,0.5,0.001,1\n" for i in range(a, b))
    path.write_text(",".join(METRICS_HEADER) + "\n" + rows(1, 11))
    reader = MetricsReader(path, max_rows=8)
    first = reader.read()
    assert len(first) <= 9 and first[0]["epoch"] == 1 and first[-1]["epoch"] == 10
    with open(path, "a") as f:
        f.write(rows(11, 41) + "41,1,0.5")  # a half-written row
    got = reader.read()
    assert got[-1]["epoch"] == 40 and len(got) <= 9 + 1
    with open(path, "a") as f:
        f.write(",1,0.5,0.001,1\n")
    assert reader.read()[-1]["epoch"] == 41
    path.write_text(",".join(METRICS_HEADER) + "\n" + rows(1, 3))  # rewritten (a resume): read afresh
    assert [r["epoch"] for r in reader.read()] == [1, 2]


def test_eval_report_has_top5_for_more_than_five_classes():
    import numpy as np
    from lab_workbench.engine.evaluation.metrics import EvalReport
    probs = np.array([[0.5, 0.2, 0.1, 0.1, 0.05, 0.05], [0.05, 0.05, 0.1, 0.1, 0.2, 0.5]])
    r = EvalReport("test", list("abcdef"), np.array([5, 1]), probs.argmax(1), probs, np.zeros(2), np.arange(2))
    assert r.top5 == 0.0 and r.accuracy == 0.0
    r = EvalReport("test", list("abcdef"), np.array([4, 0]), probs.argmax(1), probs, np.zeros(2), np.arange(2))
    assert r.top5 == 1.0 and r.metrics()["top5_accuracy"] == 1.0
    two = EvalReport("test", ["a", "b"], np.array([0]), np.array([0]), np.array([[0.9, 0.1]]), np.zeros(1),
                     np.arange(1))
    assert two.top5 is None and "top5_accuracy" not in two.metrics()


@pytest.mark.skipif(not os.path.exists("/proc/stat") or (os.cpu_count() or 1) < 2, reason="needs Linux, 2+ CPUs")
def test_a_busy_process_takes_a_thread_away(monkeypatch):
    import lab_workbench.engine.runtime.threads as th
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)  # let it start spinning
        assert th._sample(0.5) <= (os.cpu_count() or 1) - 1
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        monkeypatch.setattr(th, "available_cpus", lambda: 2)
        monkeypatch.setattr(th, "_SAMPLED", (-1e9, None))
        monkeypatch.setattr(th, "_sample", lambda window: 1)
        assert th.default_threads() == 1 and th.default_threads() == 1  # sampled once, reused
    finally:
        spinner.kill()
        spinner.wait()
