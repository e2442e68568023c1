"""`lab sweep --search` (Optuna): trials drawn by several workers from one study in the sweep folder, weak
trials pruned, a killed worker's trial failed and retried in its own run folder, --resume, bad flags."""

import json
import os
import shlex
import signal
import subprocess
import sys

import pytest

from tests.helpers import lab_env, lab_here, wait_for

optuna = pytest.importorskip("optuna")


def study_of(folder):
    from lab_workbench.commands.sweep_search import open_study
    return open_study(folder, json.loads((folder / "sweep.json").read_text()))


def test_two_workers_draw_the_trials_of_one_study_and_the_best_line_retrains_the_best(tmp_path):
    r = lab_here("sweep", "s", "--search", "tpe", "--trials", "4", "--param", "lr=log:1e-3..1e-1",
                 "--param", "hidden=16;32", "-e", "2", "--subset", "200", "-j", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    folder = tmp_path / "runs" / "s"
    record = json.loads((folder / "sweep.json").read_text())
    assert record["search"]["sampler"] == "tpe" and record["search"]["space"]["lr"]["log"] is True
    trials = study_of(folder).get_trials()
    assert len(trials) == 4 and {t.state.name for t in trials} == {"COMPLETE"}
    assert {t.user_attrs["worker"]["pid"] for t in trials} - {os.getpid()}  # trained by the workers
    runs = sorted(p.name for p in folder.iterdir() if p.name.startswith("trial-"))
    assert runs == ["trial-000", "trial-001", "trial-002", "trial-003"]
    best = max(trials, key=lambda t: t.value)
    line = r.stdout.strip().splitlines()[-1]
    assert line.startswith(f"best: trial-{best.number:03d} (trial {best.number})"), r.stdout
    words = shlex.split(line.split(": ", 2)[-1])
    config = json.loads((folder / f"trial-{best.number:03d}" / "config.json").read_text())["config"]
    assert words[:2] == ["lab", "train"] and float(words[words.index("--lr") + 1]) == config["lr"]
    assert words[words.index("--hidden") + 1] == ",".join(map(str, config["hidden"]))
    listing = json.loads(lab_here("runs", "--json", cwd=tmp_path).stdout)
    assert sorted(x["name"] for x in listing) == [f"s/{n}" for n in runs]
    compared = json.loads(lab_here("compare", "runs/s", "--json", cwd=tmp_path).stdout)
    assert len(compared["runs"]) == 4 and "lr" in compared["differing"]
    shown = lab_here("sweep", "s", cwd=tmp_path)  # NAME alone: the table and the best line again
    assert shown.returncode == 0 and shown.stdout.strip().splitlines()[-1] == line


def test_weak_trials_are_pruned_and_their_runs_say_so(tmp_path):
    r = lab_here("sweep", "p", "--search", "random", "--trials", "6", "--param", "lr=1e-2,1e-6",
                 "--prune-trials", "median", "-e", "3", "--subset", "300", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    folder = tmp_path / "runs" / "p"
    pruned = [t for t in study_of(folder).get_trials() if t.state.name == "PRUNED"]
    assert pruned, r.stdout
    for t in pruned:
        run = folder / t.user_attrs["run"]
        assert json.loads((run / "results.json").read_text())["status"] == "pruned"
        assert len((run / "metrics.csv").read_text().splitlines()) - 1 < 3  # stopped before its last epoch
    assert "pruned" in lab_here("runs", "--status", "pruned", cwd=tmp_path).stdout


@pytest.mark.slow
def test_a_killed_workers_trial_is_retried_in_its_run_folder_and_resume_finishes_the_study(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # two threads on a busy 2-core machine: epochs 100x slower
    args = ["sweep", "k", "--search", "random", "--trials", "2", "--param", "lr=1e-2,2e-2", "-e", "3",
            "--subset", "400", "--model", "cnn", "-K", "4", "-H", "8", "--batch-size", "2"]
    parent = subprocess.Popen([sys.executable, "-P", "-m", "lab_workbench.commands", *args], cwd=tmp_path, env=lab_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    progress = tmp_path / "runs" / "k" / "trial-000" / "progress.json"
    assert wait_for(lambda: progress.is_file() and '"epoch": 2' in progress.read_text(), timeout=240)
    os.kill(json.loads(progress.read_text())["pid"], signal.SIGKILL)  # the worker, mid-trial
    out, err = parent.communicate(timeout=120)
    assert parent.returncode == 1 and "worker-0: exited -9" in err, out + err
    r = lab_here(*args, "--resume", cwd=tmp_path)
    assert r.returncode == 0 and "trials 0 had lost their worker" in r.stdout, r.stdout + r.stderr
    folder = tmp_path / "runs" / "k"
    states = {t.number: (t.state.name, t.user_attrs.get("run")) for t in study_of(folder).get_trials()}
    assert states[0] == ("FAIL", "trial-000") and states[1] == ("COMPLETE", "trial-000")  # the retry, same run
    assert sum(s == "COMPLETE" for s, _ in states.values()) == 2
    for run in {run for _, run in states.values()}:
        epochs = [row.split(",")[0] for row in (folder / run / "metrics.csv").read_text().splitlines()[1:]]
        assert epochs == ["1", "2", "3"], (run, epochs)


@pytest.mark.parametrize("args, message", [
    (["--search", "grid", "--trials", "2", "--param", "lr=1e-3,1e-2"], "--search: expected random or tpe"),
    (["--search", "tpe", "--param", "lr=1e-3,1e-2"], "--trials: expected an integer from 1"),
    (["--search", "tpe", "--trials", "100", "--param", "lr=1e-3,1e-2"], "--max-runs 64"),
    (["--search", "tpe", "--trials", "2"], "--param: --search needs at least one"),
    (["--trials", "2", "--param", "lr=1e-3,1e-2"], "--search: expected random or tpe, got None"),
    (["--search", "tpe", "--trials", "2", "--param", "lr=1e-3,1e-2", "--grid", "l2=0"], "--grid: not with --search"),
    (["--search", "tpe", "--trials", "2", "--param", "lr=1e-3,1e-2", "--lr", "0.1"], "--param lr: also given"),
    (["--search", "tpe", "--trials", "2", "--param", "lr=1e-3,1e-2", "--prune-trials", "x"], "--prune-trials"),
    (["--search", "tpe", "--trials", "2", "--param", "dropout=0..3"], "--param dropout=3"),
])
def test_bad_search_flags_are_one_line_before_anything_starts(tmp_path, args, message):
    r = lab_here("sweep", "s", *args, cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "runs").exists()


def test_a_resume_keeps_the_studys_space_and_may_change_its_budget(tmp_path):
    base = ["sweep", "s", "--search", "random", "--param", "lr=1e-3,1e-2", "-e", "1", "--subset", "100"]
    assert lab_here(*base, "--trials", "1", cwd=tmp_path).returncode == 0
    r = lab_here("sweep", "s", "--search", "random", "--param", "lr=1e-3,5e-2", "-e", "1", "--subset", "100",
                 "--trials", "2", "--resume", cwd=tmp_path)
    assert r.returncode == 2 and "--param differs from the study's record" in r.stderr, r.stderr
    r = subprocess.run([sys.executable, "-P", "-m", "lab_workbench.commands", *base, "--trials", "2", "--resume", "--json"],
                       cwd=tmp_path, env=lab_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)) == 2  # the workers' trial lines stay off stdout under --json
    assert len(study_of(tmp_path / "runs" / "s").get_trials()) == 2
    assert json.loads((tmp_path / "runs" / "s" / "sweep.json").read_text())["search"]["trials"] == 2


def test_median_pruning_starts_from_the_first_completed_trial_of_a_small_budget(tmp_path):
    """16 trials: a trial below the one completed trial's curve is pruned at once (Optuna's start-up of 5, or
    a quarter of the budget, ran 4 of 16 trials in full whatever they showed; bench/README)."""
    from lab_workbench.commands.sweep_search import open_study
    (tmp_path / "s").mkdir()
    record = {"name": "s", "search": {"sampler": "tpe", "trials": 16, "prune": "median"}}
    study = open_study(tmp_path / "s", record)
    done = optuna.trial.create_trial(params={}, distributions={}, value=0.9, intermediate_values={1: 0.8, 2: 0.9})
    study.add_trial(done)
    weak = study.ask()
    weak.report(0.5, 1)
    assert weak.should_prune()
    from lab_workbench.engine.runs.search import median_startup
    assert [median_startup(n) for n in (4, 16, 40, 80, 400)] == [1, 1, 2, 5, 5]
