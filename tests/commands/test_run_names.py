"""Run and sweep point names: refused when they are not plain folder names, never merged, never refused
for a race; what a divergence says about checkpoints."""

import pytest

from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.runs.sweep import parse_grid, plan
from lab_workbench.engine.contract.events import History
from lab_workbench.engine.runs import create_run_dir
from tests.helpers import lab_errors


cli = lab_errors


@pytest.mark.parametrize("name, says", [("", "expected a run folder name, got ''"),
                                        ("a\nb", "without control characters")])
def test_an_empty_name_or_one_with_a_newline_is_refused(tmp_path, capsys, name, says):
    code, err = cli(capsys, "train", "--name", name, "--runs-dir", str(tmp_path / "runs"), "--epochs", "1")
    assert code == 2 and len(err) == 1 and err[0].startswith("error: --name") and says in err[0], err
    assert not (tmp_path / "runs").exists() or list((tmp_path / "runs").iterdir()) == []


def test_two_starts_racing_for_one_name_get_name_and_name_2(tmp_path):
    first, lock1 = create_run_dir(tmp_path, "n")  # started, config.json not written yet
    second, lock2 = create_run_dir(tmp_path, "n")
    assert (first.name, second.name) == ("n", "n-2")
    lock1.release(), lock2.release()


def test_colliding_sweep_points_are_refused():
    with pytest.raises(ConfigError, match="would share the folder name 'images_key=ab'"):
        plan(parse_grid(["images_key=a b,ab"]), {}, 64)


def test_a_long_sweep_point_name_is_cut_and_stays_unique():
    names = list(plan(parse_grid(["images_key=" + ",".join(c * 300 for c in "xy")]), {}, 64))
    assert len(names) == 2 and len(set(names)) == 2 and all(len(n.encode()) <= 200 for n in names)


def test_a_divergence_before_any_checkpoint_does_not_claim_one_is_kept(tmp_path, capsys, monkeypatch):
    run = tmp_path / "runs" / "d"
    run.mkdir(parents=True)
    monkeypatch.setattr("lab_workbench.engine.training.trainer.train",
                        lambda *a, **k: History(run_dir=str(run), status="diverged"))
    code, err = cli(capsys, "train", "--name", "d", "--runs-dir", str(tmp_path / "runs"), "--epochs", "1")
    assert code == 1 and len(err) == 1 and "before its first checkpoint" in err[0] and "is kept" not in err[0]
