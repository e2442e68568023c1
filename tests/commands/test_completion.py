"""Shell completion completes values (issue 24): choices from TrainConfig and run names from --runs-dir."""

import json
from types import SimpleNamespace

from lab_workbench.commands.completion import choices, resume_names, run_names
from tests.helpers import lab_here


def _runs(tmp_path):
    for name, model in [("alpha", "mlp"), ("beta", "cnn")]:
        (tmp_path / "runs" / name).mkdir(parents=True)
        (tmp_path / "runs" / name / "config.json").write_text(json.dumps({"config": {"model": model},
                                                                          "data": {"source": "digits"}}))
        (tmp_path / "runs" / name / "results.json").write_text(json.dumps({"status": "completed"}))
    (tmp_path / "runs" / "notarun").mkdir()


def test_choices_complete_models_data_sets_optimizers_and_schedulers():
    assert [n for n, _ in choices("model")("c")] == ["cnn", "convnet"]
    assert dict(choices("model")("log"))["logistic"].startswith("multinomial logistic regression")
    assert [n for n, _ in choices("optimizer")("ad")] == ["adam", "adamw"]
    assert [n for n, _ in choices("scheduler")("")] == ["none", "step", "plateau", "cosine", "onecycle"]
    assert "mnist" in [n for n, _ in choices("dataset")("")] and choices("dataset")("zz") == []
    assert [n for n, _ in choices("recipe")("")] == ["list", "fast"]


def test_run_names_come_from_the_runs_dir_on_the_command_line(tmp_path, monkeypatch):
    _runs(tmp_path)
    ctx = SimpleNamespace(params={"runs_dir": str(tmp_path / "runs")})
    got = dict(run_names(ctx, ""))
    assert set(got) == {"latest", "alpha", "beta"} and got["beta"] == "completed, cnn on digits"
    assert [n for n, _ in run_names(ctx, "a")] == ["alpha"]
    assert [n for n, _ in resume_names(ctx, "")][:2] == ["latest", "auto"]
    assert run_names(ctx, "/some/path/") == [] and run_names(SimpleNamespace(params={}), "x") == []
    monkeypatch.chdir(tmp_path)
    assert "alpha" in dict(run_names(None, ""))  # no context yet: runs/ under the current folder


def test_the_shell_gets_them_through_lab(tmp_path, monkeypatch):
    _runs(tmp_path)

    def complete(words):
        monkeypatch.setenv("_LAB_COMPLETE", "complete_bash")
        monkeypatch.setenv("COMP_WORDS", words)
        monkeypatch.setenv("COMP_CWORD", str(len(words.split(" ")) - 1))
        return lab_here(cwd=tmp_path).stdout.split()
    assert complete("lab train --model c") == ["cnn", "convnet"]
    assert complete("lab train --scheduler o") == ["onecycle"]
    assert complete("lab train --resume a") == ["auto", "alpha"]
    assert complete("lab eval b") == ["beta"]
    got = complete("lab predict ")
    assert got[0] == "latest" and sorted(got[1:]) == ["alpha", "beta"]
    assert complete(f"lab compare --runs-dir {tmp_path / 'runs'} al") == ["alpha"]
